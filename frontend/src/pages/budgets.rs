//! One-click budgets in the web app: setting one up from a room (the schedule spelled out before
//! the buyer goes to their wallet, whose page may show only the amount), and the list in
//! `/settings` with what is spent and left this period, and **Revoke**.

use leptos::prelude::*;
use shifting_shared::FieldErrors;
use shifting_shared::budget::{
    BudgetPeriod, BudgetResponse, BudgetStatus, CreateBudgetRequest, OneClickRefusal, SpentSource,
};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::format;
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::pages::show_refusal;
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// Why a budget could not pay a purchase, in words.
pub fn refusal(locale: Locale, refusal: OneClickRefusal) -> &'static str {
    match refusal {
        OneClickRefusal::OverBudget => td_string!(locale, budgets.over_budget),
        OneClickRefusal::OutsidePeriod => td_string!(locale, budgets.outside_period),
        OneClickRefusal::Inactive => td_string!(locale, budgets.inactive),
        OneClickRefusal::OtherCurrency => td_string!(locale, budgets.other_currency),
        OneClickRefusal::WalletRefused => td_string!(locale, budgets.wallet_refused),
    }
}

/// A budget's status, in words.
fn status(locale: Locale, status: BudgetStatus) -> &'static str {
    match status {
        BudgetStatus::Pending => td_string!(locale, budgets.status_pending),
        BudgetStatus::Approved => td_string!(locale, budgets.status_approved),
        BudgetStatus::Active => td_string!(locale, budgets.status_active),
        BudgetStatus::Ended => td_string!(locale, budgets.status_ended),
        BudgetStatus::Declined => td_string!(locale, budgets.status_declined),
        BudgetStatus::Failed => td_string!(locale, budgets.status_failed),
        BudgetStatus::Revoked => td_string!(locale, budgets.status_revoked),
    }
}

/// "50.00 EUR per month".
fn limit(locale: Locale, budget: &BudgetResponse) -> String {
    let amount = format::amount(locale, &budget.limit);
    match budget.period {
        BudgetPeriod::Week => td_string!(locale, budgets.limit_week, amount).to_string(),
        BudgetPeriod::Month => td_string!(locale, budgets.limit_month, amount).to_string(),
        BudgetPeriod::Year => td_string!(locale, budgets.limit_year, amount).to_string(),
    }
}

/// The schedule a budget's grant carries, in sentences: the limit per period, the first start
/// and the last end (as the wallet counts repetitions), and that nothing carries over.
#[component]
fn Schedule(budget: BudgetResponse) -> impl IntoView {
    let i18n = use_i18n();
    let words = Memo::new(move |_| {
        let locale = i18n.get_locale();
        let amount = format::amount(locale, &budget.limit);
        let each = match budget.period {
            BudgetPeriod::Week => {
                td_string!(locale, budgets.schedule_limit_week, amount).to_string()
            }
            BudgetPeriod::Month => {
                td_string!(locale, budgets.schedule_limit_month, amount).to_string()
            }
            BudgetPeriod::Year => {
                td_string!(locale, budgets.schedule_limit_year, amount).to_string()
            }
        };
        let start = format::date_time(locale, &budget.starts_at);
        let end = format::date_time(locale, &budget.ends_at);
        let count = budget.periods;
        let span = td_string!(locale, budgets.schedule_span, start, end, count).to_string();
        (each, span)
    });
    view! {
        <ul class="schedule" data-testid="budget-schedule">
            <li>{move || words.get().0}</li>
            <li>{move || words.get().1}</li>
            <li>{tr!(budgets.schedule_no_carry)}</li>
        </ul>
        <p class="muted">{tr!(budgets.wallet_silent)}</p>
    }
}

/// Setting up one-click purchases from a room: the budget per period in the wallet's currency,
/// the period and how many; then the schedule in words and the way to the wallet.
#[component]
pub fn OneClickSetup(room_code: String, changed: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let amount = RwSignal::new(String::new());
    let periods = RwSignal::new("6".to_owned());
    let period = RwSignal::new(BudgetPeriod::Month);
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let asked = RwSignal::new(None::<BudgetResponse>);
    let leaving = RwSignal::new(false);
    let create = Action::new_local(move |request: &CreateBudgetRequest| {
        let request = request.clone();
        async move { api::budgets::create(session, &request).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(budget)) => asked.set(Some(budget)),
        Some(Err(err)) => show_refusal(err, errors, form_error),
        None => {}
    });
    let cancel = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move { api::budgets::revoke(session, id).await }
    });
    Effect::new(move |_| {
        if cancel.value().get().is_some() {
            asked.set(None);
            create.value().set(None);
            changed.run(());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        errors.set(FieldErrors::new());
        let request = CreateBudgetRequest {
            wallet_address: None,
            amount: amount.get_untracked().trim().to_owned(),
            period: period.get_untracked(),
            periods: periods.get_untracked().trim().parse().unwrap_or(0),
            room_code: Some(room_code.clone()),
        };
        match request.checked_periods() {
            Err(problem) => errors.set(FieldErrors::one("periods", problem)),
            Ok(_) => {
                create.dispatch(request);
            }
        }
    };
    let currency = move || session.user().and_then(|u| u.wallet).map(|w| w.asset_code);
    let amount_hint = Signal::derive(move || match currency() {
        Some(currency) => t_string!(i18n, budgets.amount_hint, currency).to_string(),
        None => t_string!(i18n, budgets.amount_hint_plain).to_owned(),
    });
    view! {
        <details class="one-click-setup" data-testid="one-click-setup">
            <summary>{tr!(budgets.title)}</summary>
            <p class="muted">{tr!(budgets.intro)}</p>
            {move || match asked.get() {
                Some(budget) => {
                    let redirect = budget.redirect_url.clone().unwrap_or_default();
                    let id = budget.id.to_string();
                    view! {
                        <div class="stack" data-testid="budget-asked">
                            <h3>{tr!(budgets.schedule_title)}</h3>
                            <Schedule budget=budget.clone()/>
                            <div class="actions">
                                <button class="button" type="button" data-testid="budget-continue"
                                    disabled=move || leaving.get()
                                    on:click=move |_| {
                                        leaving.set(true);
                                        let _ = window().location().set_href(&redirect);
                                    }>
                                    {move || if leaving.get() { t_string!(i18n, budgets.opening) } else { t_string!(i18n, budgets.go_to_wallet) }}
                                </button>
                                <button class="button secondary" type="button" disabled=move || cancel.pending().get()
                                    on:click=move |_| { cancel.dispatch(id.clone()); }>{tr!(budgets.cancel)}</button>
                            </div>
                        </div>
                    }.into_any()
                }
                None => view! {
                    <form class="stack" on:submit=on_submit.clone() novalidate>
                        <Field name="amount" label=tr!(budgets.amount_label) hint=amount_hint
                            inputmode="decimal" value=amount error=error_for(i18n, errors, "amount")/>
                        <label for="budget_period">{tr!(budgets.period_label)}</label>
                        <select id="budget_period" name="period"
                            on:change=move |ev| period.set(match event_target_value(&ev).as_str() {
                                "week" => BudgetPeriod::Week,
                                "year" => BudgetPeriod::Year,
                                _ => BudgetPeriod::Month,
                            })>
                            <option value="week" selected=move || period.get() == BudgetPeriod::Week>{tr!(budgets.week)}</option>
                            <option value="month" selected=move || period.get() == BudgetPeriod::Month>{tr!(budgets.month)}</option>
                            <option value="year" selected=move || period.get() == BudgetPeriod::Year>{tr!(budgets.year)}</option>
                        </select>
                        <Field name="periods" label=tr!(budgets.periods_label) hint=tr!(budgets.periods_hint)
                            inputmode="numeric" value=periods error=error_for(i18n, errors, "periods")/>
                        <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                        <button class="button secondary" type="submit" data-testid="budget-set-up" disabled=move || create.pending().get()>
                            {move || if create.pending().get() { t_string!(i18n, budgets.setting_up) } else { t_string!(i18n, budgets.set_up) }}
                        </button>
                    </form>
                }.into_any(),
            }}
        </details>
    }
}

/// The settings section: every budget with its status, limit, what is spent and left this
/// period, when it ends, and **Revoke** for those still in force.
#[component]
pub fn BudgetSettings() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let version = RwSignal::new(0u32);
    let budgets = LocalResource::new(move || {
        version.track();
        async move { api::budgets::list(session).await }
    });
    let revoke = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move { api::budgets::revoke(session, id).await }
    });
    let error = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(_)) => version.update(|v| *v += 1),
        Some(Err(err)) => error.set(Some(err)),
        None => {}
    });
    let confirming = RwSignal::new(None::<String>);
    view! {
        <section class="card" aria-labelledby="budgets-title" data-testid="budget-settings">
            <h2 id="budgets-title">{tr!(budgets.settings_title)}</h2>
            <p class="form-error" role="alert">{move || error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
            {move || match budgets.get() {
                None => view! { <p class="muted">{tr!(app.loading)}</p> }.into_any(),
                Some(Err(err)) => view! { <p class="form-error" role="alert">{text::api_error(i18n.get_locale(), &err)}</p> }.into_any(),
                Some(Ok(list)) if list.budgets.is_empty() => view! { <p class="muted" data-testid="no-budgets">{tr!(budgets.none)}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="budgets">
                        {list.budgets.into_iter().map(|budget| {
                            let id = budget.id.to_string();
                            let in_force = matches!(budget.status, BudgetStatus::Pending | BudgetStatus::Approved | BudgetStatus::Active);
                            let shown = budget.clone();
                            let (confirm_id, revoke_id) = (id.clone(), id.clone());
                            view! {
                                <li data-testid="budget" data-status=budget.status.as_str()>
                                    <p><strong>{move || limit(i18n.get_locale(), &shown)}</strong> " "
                                        <span class="badge" class:ok=budget.status == BudgetStatus::Active>{move || status(i18n.get_locale(), budget.status)}</span></p>
                                    <p class="wallet muted">{budget.wallet_address.clone()}</p>
                                    {budget.spent.clone().zip(budget.left.clone()).map(|(spent, left)| {
                                        let source = budget.spent_source;
                                        view! {
                                            <p data-testid="budget-spent">{move || {
                                                let locale = i18n.get_locale();
                                                let (spent, left) = (format::amount(locale, &spent), format::amount(locale, &left));
                                                td_string!(locale, budgets.spent, spent, left).to_string()
                                            }} " "
                                            <span class="muted">{move || match source {
                                                Some(SpentSource::Wallet) => t_string!(i18n, budgets.spent_wallet),
                                                _ => t_string!(i18n, budgets.spent_record),
                                            }}</span></p>
                                        }
                                    })}
                                    <p class="muted">{move || {
                                        let end = format::date_time(i18n.get_locale(), &budget.ends_at);
                                        t_string!(i18n, budgets.ends, end).to_string()
                                    }}</p>
                                    {in_force.then(|| view! {
                                        <Show when={let id = confirm_id.clone(); move || confirming.get().as_deref() == Some(id.as_str())}
                                            fallback={let id = confirm_id.clone(); move || { let id = id.clone(); view! {
                                                <button class="button secondary" type="button" data-testid="budget-revoke"
                                                    on:click=move |_| confirming.set(Some(id.clone()))>{tr!(budgets.revoke)}</button>
                                            }}}>
                                            <div class="actions">
                                                <button class="button danger" type="button" data-testid="budget-revoke-confirm"
                                                    disabled=move || revoke.pending().get()
                                                    on:click={let id = revoke_id.clone(); move |_| { revoke.dispatch(id.clone()); }}>{tr!(budgets.revoke_confirm)}</button>
                                                <button class="button secondary" type="button" on:click=move |_| confirming.set(None)>{tr!(budgets.keep)}</button>
                                            </div>
                                        </Show>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}
