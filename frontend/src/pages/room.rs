//! `/r/{code}`: the public room page. Anyone sees the room and its share panel; a signed-in
//! buyer gets a quote and continues to their wallet's consent page; the seller gets the pause,
//! reopen and close controls instead.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use shifting_shared::api::{
    GuestPaymentRequest, RoomResponse, StartPaymentRequest, TransactionPageResponse,
    TransactionResponse, UpdateRoomRequest,
};
use shifting_shared::budget::{BudgetStatus, OneClickOffer, OneClickRefusal};
use shifting_shared::{
    FieldCode, FieldError, FieldErrors, RatingSummary, RoomStatus, StockLimit, TransactionStatus,
};
use uuid::Uuid;

use crate::api;
use crate::api::client::ApiError;
use crate::components::copy::CopyLink;
use crate::components::field::{Field, error_for};
use crate::components::gallery::Gallery;
use crate::components::heading::{Heading, focus_when_shown};
use crate::components::phone::PhoneApproval;
use crate::components::problem::Problem;
use crate::components::qr::Qr;
use crate::components::reviews::{
    Distribution, RatingLine, ReviewList, ReviewSource, VerifiedWallet, profile_path,
};
use crate::components::status::RoomBadge;
use crate::format;
use crate::i18n::{t_string, td_string, use_i18n};
use crate::pages::budgets::OneClickSetup;
use crate::pages::profile::POLICY_PATH;
use crate::pages::room_media::{DeliveryFileEditor, PicturesEditor};
use crate::pages::{Page, room_path};
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The room page.
#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || {
        params
            .read()
            .get("code")
            .unwrap_or_default()
            .to_ascii_uppercase()
    };
    let room = LocalResource::new(move || {
        let code = code();
        async move { api::rooms::room(&code).await }
    });
    let changed = Callback::new(move |()| room.refetch());
    view! {
        <Transition fallback=move || view! { <p class="muted" aria-busy="true">{tr!(room.loading)}</p> }>
            {move || room.get().map(|answer| match answer {
                Ok(found) => view! { <Room room=found changed=changed/> }.into_any(),
                Err(ApiError::Api { status: 410, .. }) => view! {
                    <section class="narrow" data-testid="room-unavailable">
                        <Heading text=tr!(room.unavailable_title)/>
                        <p>{tr!(room.unavailable_text)}</p>
                        <A href=Page::Home.path() attr:class="button">{tr!(app.go_home)}</A>
                    </section>
                }.into_any(),
                Err(ApiError::Api { status: 404, .. }) => view! {
                    <section class="narrow">
                        <Heading text=tr!(room.not_found_title)/>
                        <p>{tr!(room.not_found_text)}</p>
                        <A href=Page::Home.path() attr:class="button">{tr!(app.go_home)}</A>
                    </section>
                }.into_any(),
                Err(err) => view! { <Problem error=err retry=changed/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Room(room: RoomResponse, changed: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let seller = room.seller.username.clone();
    let is_seller = move || session.user().is_some_and(|u| u.username == seller);
    let status = room.status;
    let sold_out = room.stock_left == Some(0);
    let code = room.code.clone();
    let (share, share_code) = (room.share_url.clone(), room.code.clone());
    let seller_name = room.seller.username.clone();
    let is_seller_now = {
        let seller_name = seller_name.clone();
        move || session.user().is_some_and(|u| u.username == seller_name)
    };
    let is_seller_now_ask = move || session.user().is_some_and(|u| u.username == seller_name);
    let for_buyer = room.clone();
    let for_seller = room.clone();
    let report_code = room.code.clone();
    let report_seller = room.seller.username.clone();
    view! {
        <section class="room page">
            <div class="room-head">
                <div>
                    <p class="muted">{
                        let (code, seller) = (room.code.clone(), room.seller.username.clone());
                        move || t_string!(i18n, room.code_line, code = code.clone(), seller = seller.clone()).to_string()
                    }</p>
                    <Heading text=room.name.clone()/>
                </div>
                <RoomBadge status=status/>
            </div>
            <p class="price">
                <span data-testid="price">{
                    let price = room.price.clone();
                    move || format::amount(i18n.get_locale(), &price)
                }</span>
                {room.stock_left.map(|left| view! {
                    <span class="stock" class:sold-out=left == 0 data-testid="stock">
                        {move || text::stock_left(i18n.get_locale(), left)}
                    </span>
                })}
            </p>
            <p class="seller-line" data-testid="seller-line">
                <span class="muted">{tr!(reviews.seller_label)} ": "</span>
                <A href=profile_path(&room.seller.username)>{room.seller.username.clone()}</A>
                " "
                <RatingLine summary=room.seller_rating.clone() testid="seller-rating"/>
            </p>
            {room.wallet_badge.clone().map(|badge| view! { <VerifiedWallet badge=badge/> })}
            {room.wallet_name.clone().map(|name| view! {
                <p class="muted" data-testid="paid-to">{move || t_string!(i18n, room.paid_to, name = name.clone()).to_string()}</p>
            })}
            <Gallery images=room.images.clone() name=room.name.clone()/>
            {(!room.description.is_empty()).then(|| view! { <p class="description">{linked(&room.description)}</p> })}
            <div class="room-grid">
                <div class="panel">
                    {move || {
                        if !session.ready.get() {
                            view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }.into_any()
                        } else if is_seller() {
                            view! { <SellerControls room=for_seller.clone() changed=changed/> }.into_any()
                        } else if status != RoomStatus::Open {
                            let why = move || if status == RoomStatus::Paused {
                                t_string!(i18n, room.paused_notice)
                            } else {
                                t_string!(i18n, room.closed_notice)
                            };
                            view! { <p class="notice" data-testid="not-payable">{why}</p> }.into_any()
                        } else if sold_out {
                            view! {
                                <h2>{tr!(room.sold_out)}</h2>
                                <p class="notice" data-testid="not-payable">{tr!(room.sold_out_text)}</p>
                            }.into_any()
                        } else if session.user().is_none() {
                            let next = room_path(&code);
                            view! {
                                <BuyPanel room=for_buyer.clone() guest=true/>
                                <p class="muted" data-testid="guest-login">{tr!(room.have_account)} " "
                                    <A href=format!("{}?next={next}", Page::Login.path())>{tr!(room.log_in_to_pay)}</A>
                                    " · "
                                    <A href=format!("{}?next={next}", Page::Signup.path())>{tr!(room.sign_up)}</A></p>
                            }.into_any()
                        } else {
                            view! { <BuyPanel room=for_buyer.clone()/> }.into_any()
                        }
                    }}
                </div>
                // Buyers are offered the link only while the room can be paid; its seller, until
                // it is closed.
                {move || (status == RoomStatus::Open || (is_seller_now() && status == RoomStatus::Paused))
                    .then(|| view! { <SharePanel link=share.clone() code=share_code.clone()/> })}
            </div>
            {
                let code = room.code.clone();
                move || (session.user().is_some() && !is_seller_now_ask()).then(|| view! { <AskSeller code=code.clone()/> })
            }
            {move || session.user().is_some_and(|u| u.username != report_seller).then(|| view! {
                <crate::components::report::Report target=shifting_shared::admin::ReportTarget::Room
                    target_id=report_code.clone() id="room".to_owned()/>
            })}
            <RoomReviews code=room.code.clone() rating=room.rating.clone()/>
        </section>
    }
}

/// "Ask the seller": opens the visitor's conversation about this room (a closed room takes no
/// new ones) and goes to it.
#[component]
fn AskSeller(code: String) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let navigate = leptos_router::hooks::use_navigate();
    let open = Action::new_local(move |(): &()| {
        let code = code.clone();
        async move { api::conversations::open(session, &code).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(conversation)) = open.value().get() {
            navigate(
                &crate::pages::messages::conversation_path(&conversation.id.to_string()),
                Default::default(),
            );
        }
    });
    view! {
        <div class="ask-seller">
            <button class="button secondary" type="button" data-testid="ask-seller"
                disabled=move || open.pending().get() on:click=move |_| { open.dispatch(()); }>
                {tr!(messages.ask_seller)}
            </button>
            <p class="form-error" role="alert">{move || match open.value().get() {
                Some(Err(err)) => Some(text::api_error(i18n.get_locale(), &err)),
                _ => None,
            }}</p>
        </div>
    }
}

/// The room's rating with its spread, and its reviews page by page.
#[component]
fn RoomReviews(code: String, rating: RatingSummary) -> impl IntoView {
    let has_reviews = rating.count > 0;
    let first_code = code.clone();
    let first = LocalResource::new(move || {
        let code = first_code.clone();
        async move { api::reviews::of_room(&code, None).await }
    });
    view! {
        <section class="room-reviews" aria-labelledby="reviews-title" data-testid="room-reviews">
            <h2 id="reviews-title">{tr!(reviews.title)}</h2>
            <div class="card rating-card">
                <RatingLine summary=rating.clone() testid="room-rating"/>
                {has_reviews.then(|| view! { <Distribution summary=rating.clone()/> })}
                <p class="muted"><A href=POLICY_PATH>{tr!(reviews.how_link)}</A></p>
            </div>
            {move || first.get().map(|answer| match answer {
                Ok(page) => view! { <ReviewList first=page source=ReviewSource::Room(code.clone())/> }.into_any(),
                Err(err) => view! { <Problem error=err retry=Callback::new(move |()| first.refetch())/> }.into_any(),
            })}
        </section>
    }
}

/// A description with its web links clickable; they open elsewhere and pass nothing on
/// (`nofollow noopener noreferrer`), and only `http` and `https` ones are links.
pub(crate) fn linked(description: &str) -> impl IntoView + use<> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    finder
        .spans(description)
        .map(|span| {
            let text = span.as_str().to_owned();
            let web = span.kind().is_some()
                && (text.starts_with("https://") || text.starts_with("http://"));
            if web {
                let href = text.clone();
                view! { <a href=href rel="nofollow noopener noreferrer" target="_blank">{text}</a> }
                    .into_any()
            } else {
                text.into_any()
            }
        })
        .collect_view()
}

/// The link, a copy button and a QR code.
#[component]
fn SharePanel(link: String, code: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="panel share">
            <h2>{tr!(room.share_title)}</h2>
            <CopyLink id="share-link" label=tr!(room.link_label) link=link.clone()/>
            <p class="muted">{
                let code = code.clone();
                move || t_string!(i18n, room.or_code, code = code.clone()).to_string()
            }</p>
            <Qr text=link label=Signal::derive(move || t_string!(i18n, room.qr_label, code = code.clone()).to_string())/>
        </div>
    }
}

/// Wallet address → quote preview → continue to the wallet. A quote this buyer already has for
/// the room (the page was reloaded) is found again and shown. A `guest` pays without an account
/// (and may leave an e-mail address for the receipt); the purchase's key stays in this browser.
#[component]
fn BuyPanel(room: RoomResponse, #[prop(optional)] guest: bool) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let wallet = RwSignal::new(
        session
            .user()
            .and_then(|u| u.wallet_address)
            .unwrap_or_default(),
    );
    let email = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    // The payment whose quote is on show, and a guest's link to its receipt.
    let current = RwSignal::new(None::<TransactionResponse>);
    let receipt = RwSignal::new(None::<String>);
    // A purchase under a one-click budget (no redirect), or why the budget could not pay it.
    let offer = RwSignal::new(None::<OneClickOffer>);
    let refused = RwSignal::new(None::<OneClickRefusal>);
    // The signed-in buyer's budgets: an active one offers the one click.
    let budgets_version = RwSignal::new(0u32);
    let budgets = LocalResource::new(move || {
        budgets_version.track();
        async move {
            if guest || session.user().is_none() {
                None
            } else {
                api::budgets::list(session).await.ok()
            }
        }
    });
    let active_budget = Memo::new(move |_| {
        budgets.get().flatten().and_then(|list| {
            list.budgets
                .into_iter()
                .find(|b| b.status == BudgetStatus::Active)
        })
    });
    // A budget the wallet has approved is being confirmed: looked at again each second.
    Effect::new(move |_| {
        let confirming = budgets.get().flatten().is_some_and(|list| {
            list.budgets
                .iter()
                .any(|b| b.status == BudgetStatus::Approved)
        });
        if confirming {
            set_timeout(
                move || budgets_version.update(|v| *v += 1),
                std::time::Duration::from_secs(1),
            );
        }
    });
    let code = room.code.clone();
    let start = Action::new_local(move |(address, budget): &(String, Option<Uuid>)| {
        let (address, budget, code) = (address.clone(), *budget, code.clone());
        let email = Some(email.get_untracked().trim().to_owned()).filter(|e| !e.is_empty());
        async move {
            if guest {
                let request = GuestPaymentRequest {
                    wallet_address: address,
                    email,
                };
                api::payments::start_guest_payment(&code, &request).await
            } else {
                let request = StartPaymentRequest {
                    wallet_address: budget.is_none().then_some(address),
                    budget_id: budget,
                };
                api::payments::start_payment(session, &code, &request).await
            }
        }
    });
    Effect::new(move |_| match start.value().get() {
        Some(Ok(started)) => {
            receipt.set(started.receipt_url);
            offer.set(started.one_click);
            refused.set(started.one_click_refused);
            current.set(Some(started.transaction));
        }
        Some(Err(err)) => {
            let fields = err.fields();
            let shown = fields.get("wallet_address").is_some() || fields.get("email").is_some();
            form_error.set((!shown).then_some(err));
            errors.set(fields);
        }
        None => {}
    });
    // A signed-in buyer's own purchases: a quote left open, an earlier purchase.
    // A guest's are the ones this browser holds keys for.
    let guest_room = room.code.clone();
    let mine = move |filter: String, status: TransactionStatus| {
        let room = guest_room.clone();
        async move {
            if guest {
                let transactions = crate::guest::purchases(&room, status).await;
                Some(TransactionPageResponse {
                    total: transactions.len() as u64,
                    limit: 50,
                    offset: 0,
                    next_cursor: None,
                    transactions,
                })
            } else {
                api::transactions::transactions(session, &filter).await.ok()
            }
        }
    };
    let waiting_filter = format!("role=buyer&room={}&status=awaiting_approval", room.code);
    let waiting = {
        let mine = mine.clone();
        LocalResource::new(move || {
            mine(waiting_filter.clone(), TransactionStatus::AwaitingApproval)
        })
    };
    Effect::new(move |_| {
        let now = format::now();
        let found = waiting.get().flatten().and_then(|page| {
            page.transactions.into_iter().find(|t| {
                t.consent_url.is_some()
                    && t.quote
                        .as_ref()
                        .and_then(|q| q.expires_at)
                        .is_some_and(|at| at > now)
            })
        });
        if let Some(found) = found
            && current.get_untracked().is_none()
        {
            if guest {
                receipt.set(crate::guest::receipt_link(&found.id.to_string()));
            }
            current.set(Some(found));
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = wallet.get_untracked().trim().to_owned();
        // The server resolves the address and says what is wrong with it.
        form_error.set(None);
        if typed.is_empty() {
            errors.set(FieldErrors::one(
                "wallet_address",
                FieldError::new(FieldCode::Required, "is required"),
            ));
        } else {
            errors.set(FieldErrors::new());
            start.dispatch((typed, None));
        }
    };
    let buy_with_budget = move |_| {
        if let Some(budget) = active_budget.get_untracked() {
            form_error.set(None);
            start.dispatch((budget.wallet_address, Some(budget.id)));
        }
    };
    // Leaving a quote (another wallet, cancel, or a new quote) cancels its payment first, so
    // it holds nothing (a unit of stock, the wallet's grant) for nobody.
    let leave = Action::new_local(move |(id, again): &(String, Option<String>)| {
        let (id, again) = (id.clone(), again.clone());
        async move {
            // Already ended (expired meanwhile): nothing is left to cancel.
            let _ = api::transactions::cancel(crate::guest::caller(session, &id), &id).await;
            again
        }
    });
    Effect::new(move |_| {
        if let Some(again) = leave.value().get() {
            current.set(None);
            start.value().set(None);
            offer.set(None);
            budgets_version.update(|v| *v += 1);
            if let Some(address) = again {
                start.dispatch((address, None));
            }
        }
    });
    let choice = Callback::new(move |choice: Leave| {
        let Some(shown) = current.get_untracked() else {
            return;
        };
        let again = match choice {
            Leave::NewQuote | Leave::AtWallet => Some(shown.evidence.buyer_wallet_address.clone()),
            Leave::OtherWallet | Leave::Cancel => None,
        };
        if choice == Leave::OtherWallet {
            wallet.set(String::new());
        }
        leave.dispatch((shown.id.to_string(), again));
    });
    let busy = Memo::new(move |_| leave.pending().get() || start.pending().get());
    // A repeat purchase goes ahead, but not without the buyer knowing.
    let room_filter = format!("role=buyer&kind=sales&room={}", room.code);
    let earlier =
        LocalResource::new(move || mine(room_filter.clone(), TransactionStatus::Completed));
    let bought_before = move || {
        let at = earlier
            .get()
            .flatten()?
            .transactions
            .first()?
            .completed_at?;
        Some(view! {
            <p class="notice" data-testid="bought-before">{move || {
                let date = format::date_time(i18n.get_locale(), &at);
                t_string!(i18n, room.bought_before, date).to_string()
            }}</p>
        })
    };
    let price = room.price.clone();
    let setup_code = room.code.clone();
    // Back from the wallet after setting up a budget.
    let query = use_query_map();
    let budget_notice = move || {
        let outcome = query.read().get("budget")?;
        let locale = i18n.get_locale();
        let (class, words) = match outcome.as_str() {
            "active" => ("notice ok", td_string!(locale, budgets.enabled)),
            "approved" if active_budget.get().is_some() => {
                ("notice ok", td_string!(locale, budgets.enabled))
            }
            "approved" => ("notice", td_string!(locale, budgets.pending)),
            "declined" => ("notice", td_string!(locale, budgets.declined)),
            "failed" => ("notice", td_string!(locale, budgets.failed)),
            _ => return None,
        };
        Some(view! { <p class=class role="status" data-testid="budget-outcome">{words}</p> })
    };
    view! {
        {move || match current.get() {
            Some(shown) => view! {
                <QuotePreview shown=shown leave=choice busy=busy receipt=receipt.get()
                    offer=offer.get() refused=refused.get()/>
            }.into_any(),
            None => {
                let price = price.clone();
                let setup_code = setup_code.clone();
                view! {
                    <h2>{tr!(room.buy_title)}</h2>
                    {budget_notice}
                    {move || active_budget.get().map(|budget| {
                        let until = budget.period_ends_at;
                        let wallet = budget.wallet_address.clone();
                        let left = budget.left.clone();
                        view! {
                            <div class="panel one-click" data-testid="one-click">
                                {left.map(|left| view! {
                                    <p data-testid="one-click-left">{move || {
                                        let locale = i18n.get_locale();
                                        let left = format::amount(locale, &left);
                                        let until = until.map(|at| format::date_time(locale, &at)).unwrap_or_default();
                                        t_string!(i18n, budgets.available, left, until, wallet = wallet.clone()).to_string()
                                    }}</p>
                                })}
                                <button class="button" type="button" data-testid="one-click-buy"
                                    disabled=move || busy.get() on:click=buy_with_budget>{tr!(budgets.buy)}</button>
                            </div>
                        }
                    })}
                    <form class="stack" on:submit=on_submit novalidate>
                        <Field name="wallet_address" label=tr!(room.wallet_label)
                            hint=tr!(room.wallet_hint)
                            value=wallet error=error_for(i18n, errors, "wallet_address")/>
                        {guest.then(|| view! {
                            <Field name="email" kind="email" autocomplete="email" label=tr!(room.email_label)
                                hint=tr!(room.email_hint)
                                value=email error=error_for(i18n, errors, "email")/>
                        })}
                        <p class="form-error" role="alert">{move || form_error.get().map(|e| {
                            let locale = i18n.get_locale();
                            match e.fields().get("stock") {
                                Some(sold_out) => text::field(locale, sold_out.code).to_owned(),
                                None => text::api_error(locale, &e),
                            }
                        })}</p>
                        {bought_before}
                        <button class="button" type="submit" data-testid="pay" disabled=move || busy.get()>
                            {move || if busy.get() {
                                t_string!(i18n, room.asking).to_owned()
                            } else {
                                let price = format::amount(i18n.get_locale(), &price);
                                t_string!(i18n, room.pay, price).to_string()
                            }}
                        </button>
                    </form>
                    {move || {
                        let signed_in = !guest && session.user().is_some();
                        let none_active = budgets.get().flatten().is_some() && active_budget.get().is_none();
                        (signed_in && none_active).then(|| view! {
                            <OneClickSetup room_code=setup_code.clone()
                                changed=Callback::new(move |()| budgets_version.update(|v| *v += 1))/>
                        })
                    }}
                }.into_any()
            }
        }}
    }
}

/// How a buyer leaves a quote.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leave {
    /// The quote expired: ask the same wallet again.
    NewQuote,
    /// Back to the form, to pay from another wallet.
    OtherWallet,
    /// Back to the form.
    Cancel,
    /// The budget could not pay: the same wallet again, through its approval.
    AtWallet,
}

/// What the buyer pays, from which wallet, at which rate, and for how long, before leaving for
/// the wallet. An expired quote turns into "get a new quote" in place.
#[component]
fn QuotePreview(
    shown: TransactionResponse,
    leave: Callback<Leave>,
    busy: Memo<bool>,
    /// A guest's receipt link: shown to keep before leaving for the wallet.
    receipt: Option<String>,
    /// Paid under a one-click budget: confirmed here instead of at the wallet.
    offer: Option<OneClickOffer>,
    /// Why the budget asked for could not pay it (it goes to the wallet instead).
    refused: Option<OneClickRefusal>,
) -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let navigate = leptos_router::hooks::use_navigate();
    let one_click = offer.is_some();
    let transaction_id = shown.id;
    let confirm = Action::new_local(move |(): &()| async move {
        api::budgets::confirm(session, transaction_id).await
    });
    // The click's refusal (the budget was used up meanwhile, the wallet refused): nothing was
    // sent; the same wallet's approval is one button away.
    let click_refused = RwSignal::new(None::<OneClickRefusal>);
    let confirm_error = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| match confirm.value().get() {
        Some(Ok(answer)) => match answer.one_click_refused {
            Some(refusal) => click_refused.set(Some(refusal)),
            None => navigate(
                &format!("/payments/{}", answer.transaction.id),
                Default::default(),
            ),
        },
        Some(Err(err)) => confirm_error.set(Some(err)),
        None => {}
    });
    let redirect = shown.consent_url.clone().unwrap_or_default();
    let phone_url = redirect.clone();
    let phone_follow = shown.id.to_string();
    let leaving = RwSignal::new(false);
    let go = move |_| {
        leaving.set(true);
        let _ = window().location().set_href(&redirect);
    };
    let Some(quote) = shown.quote.clone() else {
        return view! { <p class="muted">{tr!(app.loading)}</p> }.into_any();
    };
    let expiry = quote.expires_at;
    // The countdown ticks every second while the quote is on show.
    let now = RwSignal::new(format::now());
    if let Ok(ticker) = set_interval_with_handle(
        move || now.set(format::now()),
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || ticker.clear());
    }
    let left = Memo::new(move |_| expiry.map(|at| (at - now.get()).num_seconds().max(0)));
    let expired = Memo::new(move |_| left.get() == Some(0));
    let countdown = move || {
        let (seconds, at) = (left.get()?, expiry?);
        let time = format::time(i18n.get_locale(), &at);
        let left = format!("{}:{:02}", seconds / 60, seconds % 60);
        Some(t_string!(i18n, room.valid_for, left, time).to_string())
    };
    let expires_at = expiry.map(|at| at.to_rfc3339());
    let heading = NodeRef::<leptos::html::H2>::new();
    focus_when_shown(heading);
    let (debit, receive) = (quote.debit_amount.clone(), quote.receive_amount.clone());
    let rate = format::rate(&receive, &debit);
    let pay = debit.clone();
    let from = shown.evidence.buyer_wallet_address.clone();
    view! {
        <div class="quote" data-testid="quote" data-expires-at=expires_at data-transaction=shown.id.to_string()>
            <h2 tabindex="-1" node_ref=heading>{tr!(room.quote_title)}</h2>
            <dl>
                <dt>{tr!(room.you_pay)}</dt><dd class="amount" data-testid="debit">{move || format::amount(i18n.get_locale(), &debit)}</dd>
                <dt>{tr!(room.seller_receives)}</dt><dd class="amount">{move || format::amount(i18n.get_locale(), &receive)}</dd>
                {rate.map(|rate| view! { <dt>{tr!(room.rate)}</dt><dd data-testid="rate">{rate}</dd> })}
                <dt>{tr!(room.from_wallet)}</dt><dd class="wallet" data-testid="paying-wallet">{from}</dd>
            </dl>
            {refused.map(|refusal| view! {
                <p class="notice" role="status" data-testid="one-click-refused">
                    {move || crate::pages::budgets::refusal(i18n.get_locale(), refusal)} " " {tr!(budgets.approve_instead)}
                </p>
            })}
            {offer.clone().map(|offer| view! {
                <p class="muted" data-testid="one-click-left-before">{move || {
                    let left = format::amount(i18n.get_locale(), &offer.left);
                    t_string!(i18n, budgets.left_before, left).to_string()
                }}</p>
            })}
            {receipt.map(|link| view! {
                <div class="receipt-link" data-testid="receipt-link">
                    <CopyLink id="receipt-link" label=tr!(room.receipt_link_label) link=link/>
                    <p class="muted">{tr!(room.receipt_link_hint)}</p>
                </div>
            })}
            <Show when=move || expired.get() fallback=move || view! {
                <p class="muted" data-testid="valid-for">{countdown} " " {(!one_click).then(|| tr!(room.approve_next))}</p>
            }>
                <p class="notice" role="status" data-testid="quote-expired">{tr!(room.quote_expired)}</p>
            </Show>
            {move || click_refused.get().map(|refusal| view! {
                <div class="notice" role="alert" data-testid="one-click-click-refused">
                    <p>{move || crate::pages::budgets::refusal(i18n.get_locale(), refusal)} " " {tr!(budgets.approve_instead)}</p>
                    <button class="button" type="button" data-testid="approve-instead" disabled=move || busy.get()
                        on:click=move |_| leave.run(Leave::AtWallet)>{tr!(budgets.approve_instead_button)}</button>
                </div>
            })}
            <p class="form-error" role="alert">{move || confirm_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
            <div class="actions">
                <Show when=move || expired.get() || click_refused.get().is_some() fallback={
                    let pay = pay.clone();
                    move || {
                        let pay = pay.clone();
                        if one_click {
                            return view! {
                                <button class="button" type="button" data-testid="confirm-one-click"
                                    disabled=move || confirm.pending().get() || confirm.value().get().is_some() || busy.get()
                                    on:click=move |_| { confirm.dispatch(()); }>
                                    {move || if confirm.pending().get() {
                                        t_string!(i18n, budgets.confirming).to_owned()
                                    } else {
                                        let amount = format::amount(i18n.get_locale(), &pay);
                                        t_string!(i18n, budgets.confirm, amount).to_string()
                                    }}
                                </button>
                            }.into_any();
                        }
                        view! {
                            <button class="button" type="button" data-testid="continue" on:click=go.clone() disabled=move || leaving.get() || busy.get()>
                                {move || if leaving.get() {
                                    t_string!(i18n, room.opening).to_owned()
                                } else {
                                    let amount = format::amount(i18n.get_locale(), &pay);
                                    t_string!(i18n, room.pay_at_wallet, amount).to_string()
                                }}
                            </button>
                        }.into_any()
                    }
                }>
                    {move || expired.get().then(|| view! {
                        <button class="button" type="button" data-testid="requote" disabled=move || busy.get()
                            on:click=move |_| leave.run(Leave::NewQuote)>{tr!(room.new_quote)}</button>
                    })}
                </Show>
                <button class="button secondary" type="button" data-testid="other-wallet" disabled=move || busy.get()
                    on:click=move |_| leave.run(Leave::OtherWallet)>{tr!(room.other_wallet)}</button>
                <button class="button secondary" type="button" data-testid="cancel-quote" disabled=move || busy.get()
                    on:click=move |_| leave.run(Leave::Cancel)>{tr!(room.cancel)}</button>
            </div>
            <Show when=move || !expired.get() && !one_click>
                <PhoneApproval url=phone_url.clone() follow=phone_follow.clone()/>
            </Show>
        </div>
    }
    .into_any()
}

/// Pause, reopen or close the room.
#[component]
fn SellerControls(room: RoomResponse, changed: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let error = RwSignal::new(None::<ApiError>);
    let confirm_close = RwSignal::new(false);
    let confirm_pause = RwSignal::new(false);
    let code = room.code.clone();
    // How many started payments a pause or close would stop, from the seller's own list.
    let own_code = room.code.clone();
    let mine = LocalResource::new(move || async move { api::rooms::my_rooms(session).await });
    let in_progress = Memo::new(move |_| {
        mine.get()
            .and_then(Result::ok)
            .and_then(|list| list.rooms.into_iter().find(|r| r.room.code == own_code))
            .map_or(0, |r| r.payments_in_progress)
    });
    let stops = move || match in_progress.get() {
        0 => t_string!(i18n, room.stops_none).to_owned(),
        1 => t_string!(i18n, room.stops_one).to_owned(),
        count => t_string!(i18n, room.stops_many, count).to_string(),
    };
    let change = Action::new_local(move |status: &RoomStatus| {
        let request = UpdateRoomRequest {
            status: Some(*status),
            ..UpdateRoomRequest::default()
        };
        let code = code.clone();
        async move { api::rooms::update_room(session, &code, &request).await }
    });
    Effect::new(move |_| match change.value().get() {
        Some(Ok(_)) => changed.run(()),
        Some(Err(err)) => error.set(Some(err)),
        None => {}
    });
    let status = room.status;
    let wallet = room.wallet_address.clone();
    view! {
        <h2>{tr!(room.your_room)}</h2>
        <p class="muted" data-testid="payout-wallet">{move || t_string!(i18n, room.pays_into, wallet = wallet.clone()).to_string()}</p>
        {match status {
            RoomStatus::Open => view! {
                <p>{tr!(room.open_text)}</p>
                <Show when=move || confirm_pause.get() fallback=move || view! {
                    <button class="button secondary" data-testid="pause" on:click=move |_| confirm_pause.set(true)>{tr!(room.pause)}</button>
                }>
                    <p data-testid="pause-stops">{stops}</p>
                    <div class="actions">
                        <ConfirmButton testid="confirm-pause" danger=false pending=change.pending()
                            on_confirm=move || { change.dispatch(RoomStatus::Paused); } text=tr!(room.pause_confirm)/>
                        <button class="button secondary" on:click=move |_| confirm_pause.set(false)>{tr!(room.keep_open)}</button>
                    </div>
                </Show>
            }.into_any(),
            RoomStatus::Paused => view! {
                <p>{tr!(room.paused_text)}</p>
                <button class="button" data-testid="reopen" disabled=move || change.pending().get()
                    on:click=move |_| { change.dispatch(RoomStatus::Open); }>{tr!(room.reopen)}</button>
            }.into_any(),
            RoomStatus::Closed => view! { <p>{tr!(room.closed_text)}</p> }.into_any(),
        }}
        {(status != RoomStatus::Closed).then(|| view! {
            <div class="danger-zone">
                <Show when=move || confirm_close.get() fallback=move || view! {
                    <button class="button secondary" data-testid="close" on:click=move |_| confirm_close.set(true)>{tr!(room.close)}</button>
                }>
                    <p>{tr!(room.close_question)}</p>
                    <p data-testid="close-stops">{stops}</p>
                    <div class="actions">
                        <ConfirmButton testid="confirm-close" danger=true pending=change.pending()
                            on_confirm=move || { change.dispatch(RoomStatus::Closed); } text=tr!(room.close_confirm)/>
                        <button class="button secondary" on:click=move |_| confirm_close.set(false)>{tr!(room.keep)}</button>
                    </div>
                </Show>
            </div>
        })}
        <p class="form-error" role="alert">{move || error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
        {(status != RoomStatus::Closed).then(|| {
            let room = room.clone();
            // The delivery text is the seller's alone: it comes with their own list of rooms.
            move || {
                let code = room.code.clone();
                let own = mine
                    .get()?
                    .ok()?
                    .rooms
                    .into_iter()
                    .find(|own| own.room.code == code)?;
                Some(view! {
                    <EditRoom room=room.clone() delivery=own.delivery changed=changed/>
                    <PicturesEditor room=room.clone() changed=changed/>
                    <DeliveryFileEditor code=code current=own.delivery_file changed=Callback::new(move |()| {
                        mine.refetch();
                        changed.run(());
                    })/>
                })
            }
        })}
        <p><A href=Page::Dashboard.path()>{tr!(room.see_sales)}</A></p>
    }
}

/// The seller's changes to the description and the stock limit (the price never changes).
#[component]
fn EditRoom(room: RoomResponse, delivery: String, changed: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let description = RwSignal::new(room.description.clone());
    let delivery = RwSignal::new(delivery);
    let stock = RwSignal::new(room.stock_limit.map(|n| n.to_string()).unwrap_or_default());
    let errors = RwSignal::new(FieldErrors::new());
    let error = RwSignal::new(None::<ApiError>);
    let code = room.code.clone();
    let save = Action::new_local(move |request: &UpdateRoomRequest| {
        let (request, code) = (request.clone(), code.clone());
        async move { api::rooms::update_room(session, &code, &request).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => changed.run(()),
        Some(Err(err)) => {
            let fields = err.fields();
            error.set(fields.is_empty().then_some(err));
            errors.set(fields);
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match StockLimit::parse_optional(&stock.get_untracked()) {
            Ok(stock_limit) => {
                errors.set(FieldErrors::new());
                save.dispatch(UpdateRoomRequest {
                    description: Some(description.get_untracked()),
                    delivery: Some(delivery.get_untracked()),
                    stock_limit: Some(stock_limit.map(StockLimit::get)),
                    ..UpdateRoomRequest::default()
                });
            }
            Err(problem) => errors.set(FieldErrors::one("stock_limit", problem)),
        }
    };
    view! {
        <form class="stack edit-room" on:submit=on_submit novalidate data-testid="edit-room">
            <h3>{tr!(room.edit_title)}</h3>
            <Field name="description" label=tr!(new_room.description_label)
                hint=tr!(new_room.description_hint) multiline=true
                value=description error=error_for(i18n, errors, "description")/>
            <Field name="delivery" label=tr!(new_room.delivery_label)
                hint=tr!(new_room.delivery_hint) multiline=true
                value=delivery error=error_for(i18n, errors, "delivery")/>
            <Field name="stock_limit" label=tr!(room.stock_label) hint=tr!(room.stock_hint)
                inputmode="numeric" value=stock error=error_for(i18n, errors, "stock_limit")/>
            <p class="form-error" role="alert">{move || error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
            <button class="button secondary" type="submit" data-testid="save-room" disabled=move || save.pending().get()>
                {move || if save.pending().get() { t_string!(i18n, room.saving) } else { t_string!(i18n, room.save) }}
            </button>
        </form>
    }
}

/// The button that confirms a pause or a close. It takes the focus when the confirmation
/// replaces the button a keyboard user pressed.
#[component]
fn ConfirmButton(
    testid: &'static str,
    danger: bool,
    pending: Memo<bool>,
    on_confirm: impl Fn() + 'static,
    #[prop(into)] text: TextProp,
) -> impl IntoView {
    let button = NodeRef::<leptos::html::Button>::new();
    focus_when_shown(button);
    view! {
        <button class="button" class:secondary=!danger class:danger=danger data-testid=testid
            node_ref=button disabled=move || pending.get() on:click=move |_| on_confirm()>
            {move || text.get()}
        </button>
    }
}
