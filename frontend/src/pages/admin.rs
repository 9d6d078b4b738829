//! `/admin`: the admin panel. Tabs (in the address, `?tab=`) for the overview, the reports
//! queue, accounts, rooms, payments, stuck payments and the audit log. Every list is searchable
//! and paginated; every action asks for a reason (kept in the audit log). The server refuses
//! all of it to anyone but an admin: this page only spares them the attempt.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shifting_shared::admin::{
    AdminOverviewResponse, AdminRoomResponse, AdminUserResponse, AuditAction, AuditEntryResponse,
    DailyVolume, ReportReason, ReportResponse, ReportStatus, ReportTarget, Role,
};
use shifting_shared::api::AmountDto;
use shifting_shared::{FieldErrors, RoomStatus};

use crate::api;
use crate::api::admin::query;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::components::problem::Problem;
use crate::components::status::RoomBadge;
use crate::format;
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::pages::admin_payments::{PaymentsTab, StuckTab};
use crate::pages::{room_path, show_refusal};
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// `/admin`.
pub const ADMIN_PATH: &str = "/admin";

/// The panel's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Overview,
    Reports,
    Users,
    Rooms,
    Payments,
    Stuck,
    Audit,
}

impl Tab {
    const ALL: [Self; 7] = [
        Self::Overview,
        Self::Reports,
        Self::Users,
        Self::Rooms,
        Self::Payments,
        Self::Stuck,
        Self::Audit,
    ];

    fn key(self) -> &'static str {
        match self {
            Self::Overview => "overview",
            Self::Reports => "reports",
            Self::Users => "users",
            Self::Rooms => "rooms",
            Self::Payments => "payments",
            Self::Stuck => "stuck",
            Self::Audit => "audit",
        }
    }

    fn label(self, locale: Locale) -> &'static str {
        match self {
            Self::Overview => td_string!(locale, admin.tab_overview),
            Self::Reports => td_string!(locale, admin.tab_reports),
            Self::Users => td_string!(locale, admin.tab_users),
            Self::Rooms => td_string!(locale, admin.tab_rooms),
            Self::Payments => td_string!(locale, admin.tab_payments),
            Self::Stuck => td_string!(locale, admin.tab_stuck),
            Self::Audit => td_string!(locale, admin.tab_audit),
        }
    }
}

/// The admin panel.
#[component]
pub fn AdminPage() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <RequireLogin>
            {move || {
                let admin = session.user().is_some_and(|user| user.role == Role::Admin);
                if admin {
                    view! { <Panel/> }.into_any()
                } else {
                    view! {
                        <section class="narrow">
                            <Heading text=tr!(admin.only_title)/>
                            <p>{tr!(admin.only_text)}</p>
                        </section>
                    }
                    .into_any()
                }
            }}
        </RequireLogin>
    }
}

#[component]
fn Panel() -> impl IntoView {
    let i18n = use_i18n();
    let query_map = use_query_map();
    let tab = Memo::new(move |_| {
        let key = query_map.read().get("tab");
        Tab::ALL
            .into_iter()
            .find(|tab| Some(tab.key()) == key.as_deref())
            .unwrap_or(Tab::Overview)
    });
    view! {
        <section class="page admin" data-testid="admin">
            <Heading text=tr!(admin.title)/>
            <nav class="tabs" aria-label=tr!(admin.tabs_label)>
                {Tab::ALL.into_iter().map(|each| view! {
                    // A plain link: the router's own marks every tab current (they share a path).
                    <a href=format!("{ADMIN_PATH}?tab={}", each.key())
                        aria-current=move || (tab.get() == each).then_some("page")
                        data-testid=format!("admin-tab-{}", each.key())>
                        {move || each.label(i18n.get_locale())}
                    </a>
                }).collect_view()}
            </nav>
            {move || match tab.get() {
                Tab::Overview => view! { <OverviewTab/> }.into_any(),
                Tab::Reports => view! { <ReportsTab/> }.into_any(),
                Tab::Users => view! { <UsersTab/> }.into_any(),
                Tab::Rooms => view! { <RoomsTab/> }.into_any(),
                Tab::Payments => view! { <PaymentsTab/> }.into_any(),
                Tab::Stuck => view! { <StuckTab/> }.into_any(),
                Tab::Audit => view! { <AuditTab/> }.into_any(),
            }}
        </section>
    }
}

/// A list read page by page: the first page follows the filters (and [`Pages::reload`], after
/// an action), [`Pages::more`] appends the next.
pub struct Pages<T: Send + Sync + 'static> {
    /// The rows so far.
    pub items: RwSignal<Vec<T>>,
    /// The next page's cursor.
    pub next: RwSignal<Option<String>>,
    /// Why the last read failed.
    pub error: RwSignal<Option<ApiError>>,
    /// Whether a read is on its way.
    pub loading: RwSignal<bool>,
    version: RwSignal<u32>,
    read: StoredValue<Reader, LocalStorage>,
}

impl<T: Send + Sync + 'static> Clone for Pages<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Pages<T> {}

/// Reads a page after a cursor (the first without one).
type Reader = Rc<dyn Fn(Option<String>)>;

/// The filters of a list, as query pairs (empty values left out).
pub type Filters = Vec<(&'static str, Option<String>)>;

impl<T: Clone + Send + Sync + 'static> Pages<T> {
    /// Reads the pages `fetch(query)` answers, the query made of `filters()` and the cursor.
    pub fn new<F, Fut>(filters: impl Fn() -> Filters + 'static, fetch: F) -> Self
    where
        F: Fn(String) -> Fut + 'static,
        Fut: Future<Output = Result<(Vec<T>, Option<String>), ApiError>> + 'static,
    {
        let items = RwSignal::new(Vec::new());
        let next = RwSignal::new(None);
        let error = RwSignal::new(None);
        let loading = RwSignal::new(false);
        let version = RwSignal::new(0_u32);
        let read: Reader = Rc::new(move |cursor: Option<String>| {
            let mut pairs = filters();
            pairs.push(("cursor", cursor.clone()));
            let pairs: Vec<(&str, Option<&str>)> =
                pairs.iter().map(|(k, v)| (*k, v.as_deref())).collect();
            let future = fetch(query(&pairs));
            let append = cursor.is_some();
            loading.set(true);
            leptos::task::spawn_local(async move {
                match future.await {
                    Ok((rows, more)) => {
                        if append {
                            items.update(|items: &mut Vec<T>| items.extend(rows));
                        } else {
                            items.set(rows);
                        }
                        next.set(more);
                        error.set(None);
                    }
                    Err(err) => error.set(Some(err)),
                }
                loading.set(false);
            });
        });
        let first = Rc::clone(&read);
        // The filters are read inside: the first page follows them.
        Effect::new(move |_| {
            version.track();
            first(None);
        });
        Self {
            items,
            next,
            error,
            loading,
            version,
            read: StoredValue::new_local(read),
        }
    }

    /// Appends the next page.
    pub fn more(self) {
        let cursor = self.next.get_untracked();
        if cursor.is_some() {
            self.read.with_value(|read| read(cursor));
        }
    }

    /// Reads the first page again.
    pub fn reload(self) {
        self.version.update(|v| *v = v.wrapping_add(1));
    }
}

impl<T: Clone + Send + Sync + 'static> Pages<T> {
    /// The end of the list, drawn by one (non-generic) component for every kind of row.
    pub fn foot(self, empty: fn(Locale) -> &'static str) -> impl IntoView {
        let state = FootState {
            error: Signal::derive(move || self.error.get()),
            empty: Signal::derive(move || {
                self.items.with(Vec::is_empty)
                    && !self.loading.get()
                    && self.error.with(Option::is_none)
            }),
            more: Signal::derive(move || self.next.with(Option::is_some)),
            loading: self.loading.into(),
        };
        view! {
            <PagesFoot state=state empty=empty
                more=Callback::new(move |()| self.more()) reload=Callback::new(move |()| self.reload())/>
        }
    }
}

/// What the end of a list shows.
#[derive(Clone, Copy)]
pub struct FootState {
    error: Signal<Option<ApiError>>,
    empty: Signal<bool>,
    more: Signal<bool>,
    loading: Signal<bool>,
}

/// The end of a list: an error with a retry, the words for an empty one, "More", "Loading…".
#[component]
fn PagesFoot(
    state: FootState,
    empty: fn(Locale) -> &'static str,
    more: Callback<()>,
    reload: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        {move || state.error.get().map(|err| view! { <Problem error=err retry=reload/> })}
        {move || state.empty.get().then(|| view! { <p class="empty">{move || empty(i18n.get_locale())}</p> })}
        {move || state.more.get().then(|| view! {
            <button class="button secondary" on:click=move |_| more.run(()) disabled=move || state.loading.get()>
                {move || t_string!(i18n, admin.more)}
            </button>
        })}
        {move || state.loading.get().then(|| view! { <p class="muted" aria-busy="true">{move || t_string!(i18n, app.loading)}</p> })}
    }
}

/// Sends an action with its reason.
pub type Sender = Rc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<(), ApiError>>>>>;

/// An action waiting for its reason: what it is called and what it does once confirmed.
#[derive(Clone)]
pub struct Pending {
    /// "Hide room K7M2QX".
    pub title: String,
    /// Sends the action with the reason; `Ok` closes the form.
    pub send: Sender,
}

/// Wraps an API call into a [`Sender`].
pub fn sender<R: 'static, Fut>(call: impl Fn(String) -> Fut + 'static) -> Sender
where
    Fut: Future<Output = Result<R, ApiError>> + 'static,
{
    Rc::new(move |reason| {
        let future = call(reason);
        Box::pin(async move { future.await.map(|_| ()) })
    })
}

/// The form that asks an admin why, then acts; shown while `pending` holds an action.
#[component]
pub fn ReasonForm(
    pending: RwSignal<Option<Pending>, LocalStorage>,
    done: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let reason = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(action) = pending.get_untracked() else {
            return;
        };
        busy.set(true);
        form_error.set(None);
        errors.set(FieldErrors::new());
        let text = reason.get_untracked();
        leptos::task::spawn_local(async move {
            match (action.send)(text).await {
                Ok(()) => {
                    reason.set(String::new());
                    pending.set(None);
                    done.run(());
                }
                Err(err) => show_refusal(err, errors, form_error),
            }
            busy.set(false);
        });
    };
    move || {
        pending.get().map(|action| {
            view! {
                <form class="form reason-form" on:submit=on_submit novalidate data-testid="reason-form">
                    <h2 class="section-title">{action.title.clone()}</h2>
                    <Field name="reason" multiline=true label=tr!(admin.reason_label)
                        hint=tr!(admin.reason_hint) value=reason error=error_for(i18n, errors, "reason")/>
                    <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                    <div class="actions">
                        <button class="button" type="submit" data-testid="reason-confirm" disabled=move || busy.get()>
                            {move || t_string!(i18n, admin.confirm)}
                        </button>
                        <button class="button secondary" type="button" on:click=move |_| pending.set(None)>
                            {move || t_string!(i18n, admin.cancel)}
                        </button>
                    </div>
                </form>
            }
        })
    }
}

#[component]
fn OverviewTab() -> impl IntoView {
    let session = expect_context::<Session>();
    let overview = LocalResource::new(move || async move { api::admin::overview(session).await });
    view! {
        <Transition fallback=move || view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }>
            {move || overview.get().map(|answer| match answer {
                Ok(found) => view! { <Overview overview=found/> }.into_any(),
                Err(err) => view! { <Problem error=err retry=Callback::new(move |()| overview.refetch())/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Overview(overview: AdminOverviewResponse) -> impl IntoView {
    let i18n = use_i18n();
    let figures = [
        (overview.users, t_figure(FigureText::Users), "users"),
        (overview.rooms, t_figure(FigureText::Rooms), "rooms"),
        (
            overview.transactions,
            t_figure(FigureText::Transactions),
            "transactions",
        ),
        (
            overview.open_reports,
            t_figure(FigureText::OpenReports),
            "open-reports",
        ),
        (
            overview.stuck_payments,
            t_figure(FigureText::Stuck),
            "stuck",
        ),
    ];
    let mut currencies: Vec<String> = overview
        .volume
        .iter()
        .map(|day| day.amount.asset_code.clone())
        .collect();
    currencies.sort();
    currencies.dedup();
    let funnel = overview.funnel.clone();
    let failures = funnel.failures.clone();
    let charts = if currencies.is_empty() {
        view! { <p class="empty">{tr!(admin.volume_empty)}</p> }.into_any()
    } else {
        currencies
            .into_iter()
            .map(|code| {
                let days: Vec<DailyVolume> = overview
                    .volume
                    .iter()
                    .filter(|d| d.amount.asset_code == code)
                    .cloned()
                    .collect();
                view! { <VolumeChart code=code days=days/> }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <div class="figures admin-figures">
            {figures.into_iter().map(|(n, label, id)| view! {
                <div class="card figure" data-testid=format!("figure-{id}")>
                    <span class="amount">{n}</span>
                    <span class="muted">{move || label(i18n.get_locale())}</span>
                </div>
            }).collect_view()}
        </div>
        <h2 class="section-title">{tr!(admin.volume_title)}</h2>
        {charts}
        <h2 class="section-title">{tr!(admin.funnel_title)}</h2>
        <ol class="funnel card" data-testid="funnel">
            <li><span class="amount">{funnel.started}</span> " " {tr!(admin.funnel_started)}</li>
            <li><span class="amount">{funnel.approved}</span> " " {tr!(admin.funnel_approved)} " "
                <span class="muted">{percent(funnel.approved, funnel.started)}</span></li>
            <li><span class="amount">{funnel.completed}</span> " " {tr!(admin.funnel_completed)} " "
                <span class="muted">{percent(funnel.completed, funnel.started)}</span></li>
        </ol>
        {(!failures.is_empty()).then(|| view! {
            <h3>{tr!(admin.failures_title)}</h3>
            <ul class="list">
                {failures.into_iter().map(|f| {
                    let reason = f.reason.clone();
                    view! {
                        <li class="row">
                            <span>{move || text::failure(i18n.get_locale(), &reason).map_or_else(|| reason.clone(), str::to_owned)}</span>
                            <span class="amount">{f.count}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
    }
}

/// The overview's figures.
#[derive(Clone, Copy)]
enum FigureText {
    Users,
    Rooms,
    Transactions,
    OpenReports,
    Stuck,
}

fn t_figure(figure: FigureText) -> fn(Locale) -> &'static str {
    match figure {
        FigureText::Users => |l| td_string!(l, admin.figure_users),
        FigureText::Rooms => |l| td_string!(l, admin.figure_rooms),
        FigureText::Transactions => |l| td_string!(l, admin.figure_transactions),
        FigureText::OpenReports => |l| td_string!(l, admin.figure_open_reports),
        FigureText::Stuck => |l| td_string!(l, admin.figure_stuck),
    }
}

fn percent(part: u64, whole: u64) -> String {
    part.saturating_mul(100)
        .checked_div(whole)
        .map(|share| format!("({share}%)"))
        .unwrap_or_default()
}

/// Days shown in the chart.
const CHART_DAYS: i64 = 30;

/// One currency's sales over the last 30 days: an SVG bar per day (drawn here, no script), with
/// the figures in a table for screen readers and exact values.
#[component]
fn VolumeChart(code: String, days: Vec<DailyVolume>) -> impl IntoView {
    let i18n = use_i18n();
    let today = format::now().date_naive();
    let columns: Vec<u64> = (0..CHART_DAYS)
        .rev()
        .map(|back| {
            let day = (today - chrono::Duration::days(back))
                .format("%Y-%m-%d")
                .to_string();
            days.iter()
                .find(|d| d.day == day)
                .and_then(|d| d.amount.value.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .collect();
    let highest = columns.iter().copied().max().unwrap_or(0).max(1);
    let scale = days.first().map_or(2, |d| d.amount.asset_scale);
    let (width, height) = (300.0_f64, 100.0_f64);
    #[allow(clippy::cast_precision_loss)]
    let bar = width / CHART_DAYS as f64;
    let title_id = format!("chart-title-{code}");
    let total = AmountDto {
        value: columns.iter().sum::<u64>().to_string(),
        asset_code: code.clone(),
        asset_scale: scale,
    };
    let bars = columns
        .iter()
        .enumerate()
        .map(|(i, value)| {
            #[allow(clippy::cast_precision_loss)]
            let (h, x) = (
                (*value as f64 / highest as f64) * (height - 4.0),
                i as f64 * bar,
            );
            view! {
                <rect x=format!("{:.2}", x + 0.5) y=format!("{:.2}", height - h)
                    width=format!("{:.2}", bar - 1.0) height=format!("{h:.2}") class="bar"/>
            }
        })
        .collect_view();
    let title_code = code.clone();
    view! {
        <figure class="card chart" data-testid=format!("chart-{code}")>
            <svg viewBox=format!("0 0 {width} {height}") role="img" aria-labelledby=title_id.clone() preserveAspectRatio="none">
                <title id=title_id.clone()>{move || t_string!(i18n, admin.chart_title, code = title_code.clone()).to_string()}</title>
                {bars}
            </svg>
            <figcaption>
                {move || t_string!(i18n, admin.chart_total, amount = format::amount(i18n.get_locale(), &total)).to_string()}
            </figcaption>
            <details>
                <summary>{tr!(admin.chart_table)}</summary>
                <table class="data">
                    <thead><tr>
                        <th scope="col">{tr!(admin.col_day)}</th>
                        <th scope="col">{tr!(admin.col_sales)}</th>
                        <th scope="col">{tr!(admin.col_amount)}</th>
                    </tr></thead>
                    <tbody>
                        {days.into_iter().map(|d| {
                            let amount = d.amount.clone();
                            view! { <tr><td>{d.day.clone()}</td><td>{d.count}</td><td>{move || format::amount(i18n.get_locale(), &amount)}</td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}

/// A report's reason, in words.
pub fn report_reason(locale: Locale, reason: ReportReason) -> &'static str {
    match reason {
        ReportReason::Spam => td_string!(locale, reports.reason_spam),
        ReportReason::Fraud => td_string!(locale, reports.reason_fraud),
        ReportReason::Offensive => td_string!(locale, reports.reason_offensive),
        ReportReason::Prohibited => td_string!(locale, reports.reason_prohibited),
        ReportReason::Other => td_string!(locale, reports.reason_other),
    }
}

fn report_target(locale: Locale, target: ReportTarget) -> &'static str {
    match target {
        ReportTarget::Room => td_string!(locale, admin.target_room),
        ReportTarget::Review => td_string!(locale, admin.target_review),
        ReportTarget::Message => td_string!(locale, admin.target_message),
    }
}

#[component]
fn ReportsTab() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let status = RwSignal::new("open".to_owned());
    let pages = Pages::new(
        move || vec![("status", Some(status.get()).filter(|s| s != "all"))],
        move |query| async move {
            api::admin::reports(session, &query)
                .await
                .map(|page| (page.items, page.next_cursor))
        },
    );
    let pending = RwSignal::new_local(None::<Pending>);
    let act = move |id: uuid::Uuid, action: &'static str| {
        let title = if action == "resolve" {
            t_string!(i18n, admin.resolve_title).to_string()
        } else {
            t_string!(i18n, admin.dismiss_title).to_string()
        };
        pending.set(Some(Pending {
            title,
            send: sender(move |reason| api::admin::handle_report(session, id, action, reason)),
        }));
    };
    view! {
        <div class="filters">
            <label for="report-status">{tr!(admin.status_label)}</label>
            <select id="report-status" on:change=move |ev| status.set(event_target_value(&ev)) prop:value=move || status.get()>
                <option value="open">{tr!(admin.report_open)}</option>
                <option value="resolved">{tr!(admin.report_resolved)}</option>
                <option value="dismissed">{tr!(admin.report_dismissed)}</option>
                <option value="all">{tr!(admin.all)}</option>
            </select>
        </div>
        <ReasonForm pending=pending done=Callback::new(move |()| pages.reload())/>
        <ul class="list" data-testid="reports">
            {move || pages.items.get().into_iter().map(|report| view! { <ReportRow report=report act=act/> }).collect_view()}
        </ul>
        {pages.foot(|l| td_string!(l, admin.reports_empty))}
    }
}

#[component]
fn ReportRow(
    report: ReportResponse,
    act: impl Fn(uuid::Uuid, &'static str) + Copy + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let open = report.status == ReportStatus::Open;
    let (id, target, reason, at) = (
        report.id,
        report.target_type,
        report.reason,
        report.created_at,
    );
    view! {
        <li class="row report" data-testid="report-row">
            <div class="row-main">
                <span>
                    <strong>{move || report_target(i18n.get_locale(), target)}</strong> " · "
                    <A href=room_path(&report.room_code) attr:data-testid="report-link">{report.room_code.clone()}</A> " · "
                    {move || report_reason(i18n.get_locale(), reason)}
                </span>
                {report.excerpt.clone().map(|e| view! { <q class="muted">{e}</q> })}
                {(!report.text.is_empty()).then(|| view! { <span>{report.text.clone()}</span> })}
                <span class="muted small">
                    {report.reporter.clone().unwrap_or_default()} " · " {move || format::date_time(i18n.get_locale(), &at)}
                    {report.resolution.clone().map(|r| view! { " · " {r} })}
                </span>
            </div>
            <div class="row-side">
                {open.then(|| view! {
                    <button class="button secondary" data-testid="report-resolve" on:click=move |_| act(id, "resolve")>{tr!(admin.resolve)}</button>
                    <button class="button secondary" data-testid="report-dismiss" on:click=move |_| act(id, "dismiss")>{tr!(admin.dismiss)}</button>
                })}
            </div>
        </li>
    }
}

/// A search box bound to `q` (searched when sent).
#[component]
pub fn Search(
    q: RwSignal<String>,
    #[prop(into)] label: TextProp,
    id: &'static str,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        q.set(typed.get_untracked());
    };
    view! {
        <form class="filters" role="search" on:submit=on_submit>
            <label for=id>{move || label.get()}</label>
            <input id=id type="search" bind:value=typed/>
            <button class="button secondary" type="submit">{tr!(admin.search)}</button>
        </form>
    }
}

#[component]
fn UsersTab() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let q = RwSignal::new(String::new());
    let pages = Pages::new(
        move || vec![("q", Some(q.get()))],
        move |query| async move {
            api::admin::users(session, &query)
                .await
                .map(|page| (page.items, page.next_cursor))
        },
    );
    let pending = RwSignal::new_local(None::<Pending>);
    let act = move |id: uuid::Uuid, name: &str, action: &'static str| {
        let name = name.to_owned();
        let title = match action {
            "suspend" => t_string!(i18n, admin.suspend_title, name).to_string(),
            "unsuspend" => t_string!(i18n, admin.unsuspend_title, name).to_string(),
            "grant" => t_string!(i18n, admin.grant_title, name).to_string(),
            _ => t_string!(i18n, admin.revoke_title, name).to_string(),
        };
        let send = match action {
            "suspend" | "unsuspend" => {
                let suspend = action == "suspend";
                sender(move |reason| api::admin::suspend(session, id, suspend, reason))
            }
            _ => {
                let role = if action == "grant" {
                    Role::Admin
                } else {
                    Role::User
                };
                sender(move |reason| api::admin::set_role(session, id, role, reason))
            }
        };
        pending.set(Some(Pending { title, send }));
    };
    view! {
        <Search q=q label=tr!(admin.search_users) id="user-search"/>
        <ReasonForm pending=pending done=Callback::new(move |()| pages.reload())/>
        <ul class="list" data-testid="users">
            {move || pages.items.get().into_iter().map(|user| view! { <UserRow user=user act=act/> }).collect_view()}
        </ul>
        {pages.foot(|l| td_string!(l, admin.nothing_found))}
    }
}

#[component]
fn UserRow(
    user: AdminUserResponse,
    act: impl Fn(uuid::Uuid, &str, &'static str) + Copy + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let suspended = user.suspended_at.is_some();
    let is_admin = user.role == Role::Admin;
    let (id, created) = (user.id, user.created_at);
    let (n1, n2) = (user.username.clone(), user.username.clone());
    view! {
        <li class="row" data-testid="user-row">
            <div class="row-main">
                <span><strong>{user.username.clone()}</strong>
                    {is_admin.then(|| view! { " " <span class="badge ok">{tr!(admin.role_admin)}</span> })}
                    {suspended.then(|| view! { " " <span class="badge bad">{tr!(admin.suspended)}</span> })}
                    {user.deleted.then(|| view! { " " <span class="badge off">{tr!(admin.deleted)}</span> })}
                </span>
                <span class="muted small">{user.email.clone()} " · " {move || format::day(i18n.get_locale(), &created)}</span>
                {user.suspended_reason.clone().map(|r| view! { <span class="small">{r}</span> })}
            </div>
            <div class="row-side">
                {(!user.deleted).then(|| view! {
                    <button class="button secondary" on:click=move |_| act(id, &n1, if suspended { "unsuspend" } else { "suspend" })>
                        {move || if suspended { t_string!(i18n, admin.unsuspend) } else { t_string!(i18n, admin.suspend) }}
                    </button>
                    <button class="button secondary" on:click=move |_| act(id, &n2, if is_admin { "revoke" } else { "grant" })>
                        {move || if is_admin { t_string!(i18n, admin.revoke) } else { t_string!(i18n, admin.grant) }}
                    </button>
                })}
            </div>
        </li>
    }
}

#[component]
fn RoomsTab() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let q = RwSignal::new(String::new());
    let hidden_only = RwSignal::new(false);
    let pages = Pages::new(
        move || {
            vec![
                ("q", Some(q.get())),
                ("hidden", hidden_only.get().then(|| "true".to_owned())),
            ]
        },
        move |query| async move {
            api::admin::rooms(session, &query)
                .await
                .map(|page| (page.items, page.next_cursor))
        },
    );
    let pending = RwSignal::new_local(None::<Pending>);
    let act = move |code: &str, action: &'static str| {
        let code = code.to_owned();
        let title = match action {
            "hide" => t_string!(i18n, admin.hide_title, code = code.clone()).to_string(),
            "unhide" => t_string!(i18n, admin.unhide_title, code = code.clone()).to_string(),
            _ => t_string!(i18n, admin.close_title, code = code.clone()).to_string(),
        };
        pending.set(Some(Pending {
            title,
            send: sender(move |reason| {
                let code = code.clone();
                async move { api::admin::room_action(session, &code, action, reason).await }
            }),
        }));
    };
    view! {
        <Search q=q label=tr!(admin.search_rooms) id="room-search"/>
        <label class="check"><input type="checkbox" bind:checked=hidden_only/> " " {tr!(admin.hidden_only)}</label>
        <ReasonForm pending=pending done=Callback::new(move |()| pages.reload())/>
        <ul class="list" data-testid="rooms">
            {move || pages.items.get().into_iter().map(|room| view! { <RoomRow room=room act=act/> }).collect_view()}
        </ul>
        {pages.foot(|l| td_string!(l, admin.nothing_found))}
    }
}

#[component]
fn RoomRow(
    room: AdminRoomResponse,
    act: impl Fn(&str, &'static str) + Copy + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let hidden = room.hidden_at.is_some();
    let closed = room.status == RoomStatus::Closed;
    let price = room.price.clone();
    let (c1, c2) = (room.code.clone(), room.code.clone());
    view! {
        <li class="row" data-testid="room-row">
            <div class="row-main">
                <span><A href=room_path(&room.code)>{room.name.clone()}</A> " "
                    <span class="code">{room.code.clone()}</span> " "
                    <RoomBadge status=room.status/>
                    {hidden.then(|| view! { " " <span class="badge bad" data-testid="room-hidden">{tr!(admin.hidden)}</span> })}
                    {room.seller_suspended.then(|| view! { " " <span class="badge bad">{tr!(admin.seller_suspended)}</span> })}
                </span>
                <span class="muted small">{room.seller.clone()} " · " {move || format::amount(i18n.get_locale(), &price)}</span>
                {room.hidden_reason.clone().map(|r| view! { <span class="small">{r}</span> })}
            </div>
            <div class="row-side">
                <button class="button secondary" data-testid=if hidden { "room-unhide" } else { "room-hide" }
                    on:click=move |_| act(&c1, if hidden { "unhide" } else { "hide" })>
                    {move || if hidden { t_string!(i18n, admin.unhide) } else { t_string!(i18n, admin.hide) }}
                </button>
                {(!closed).then(|| view! {
                    <button class="button secondary" on:click=move |_| act(&c2, "close")>{tr!(admin.close)}</button>
                })}
            </div>
        </li>
    }
}

fn action_words(locale: Locale, action: AuditAction) -> &'static str {
    match action {
        AuditAction::GrantAdmin => td_string!(locale, admin.action_grant_admin),
        AuditAction::RevokeAdmin => td_string!(locale, admin.action_revoke_admin),
        AuditAction::SuspendUser => td_string!(locale, admin.action_suspend_user),
        AuditAction::UnsuspendUser => td_string!(locale, admin.action_unsuspend_user),
        AuditAction::HideRoom => td_string!(locale, admin.action_hide_room),
        AuditAction::UnhideRoom => td_string!(locale, admin.action_unhide_room),
        AuditAction::CloseRoom => td_string!(locale, admin.action_close_room),
        AuditAction::ResolveReport => td_string!(locale, admin.action_resolve_report),
        AuditAction::DismissReport => td_string!(locale, admin.action_dismiss_report),
        AuditAction::CheckPayment => td_string!(locale, admin.action_check_payment),
    }
}

#[component]
fn AuditTab() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let action = RwSignal::new(String::new());
    let actor = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let pages = Pages::new(
        move || {
            vec![
                ("action", Some(action.get())),
                ("actor", Some(actor.get())),
                ("target_id", Some(target.get())),
            ]
        },
        move |query| async move {
            api::admin::audit(session, &query)
                .await
                .map(|page| (page.items, page.next_cursor))
        },
    );
    view! {
        <div class="filters">
            <label for="audit-action">{tr!(admin.action_label)}</label>
            <select id="audit-action" on:change=move |ev| action.set(event_target_value(&ev))>
                <option value="">{tr!(admin.all)}</option>
                {AuditAction::all().map(|each| view! {
                    <option value=each.as_str()>{move || action_words(i18n.get_locale(), each)}</option>
                }).collect_view()}
            </select>
        </div>
        <Search q=actor label=tr!(admin.search_actor) id="audit-actor"/>
        <Search q=target label=tr!(admin.search_target) id="audit-target"/>
        <ul class="list" data-testid="audit">
            {move || pages.items.get().into_iter().map(|entry| view! { <AuditRow entry=entry/> }).collect_view()}
        </ul>
        {pages.foot(|l| td_string!(l, admin.audit_empty))}
    }
}

#[component]
fn AuditRow(entry: AuditEntryResponse) -> impl IntoView {
    let i18n = use_i18n();
    let (at, action) = (entry.created_at, entry.action);
    let change = match (&entry.before, &entry.after) {
        (Some(before), Some(after)) => Some(format!("{before} → {after}")),
        (None, Some(only)) | (Some(only), None) => Some(only.to_string()),
        (None, None) => None,
    };
    view! {
        <li class="row" data-testid="audit-row">
            <div class="row-main">
                <span><strong data-testid="audit-action">{move || action_words(i18n.get_locale(), action)}</strong> " · "
                    {entry.target_type.clone()} " " <span class="code">{entry.target_id.clone()}</span></span>
                <span>{entry.reason.clone()}</span>
                {change.map(|c| view! { <span class="code small">{c}</span> })}
                <span class="muted small">{entry.actor_name.clone()} " · " {move || format::date_time(i18n.get_locale(), &at)}</span>
            </div>
        </li>
    }
}
