//! `/rooms/new`: open a room. The price is checked as it is typed with the same `shared` parser
//! the API uses, at the scale of the seller's wallet currency.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use shifting_shared::api::CreateRoomRequest;
use shifting_shared::{
    Amount, Asset, AssetCode, AssetScale, Coded, ErrorCode, FieldErrors, StockLimit,
};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::format::decimal_mark;
use crate::i18n::{t_string, use_i18n};
use crate::pages::{Page, room_path};
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The new-room form, for signed-in users with a wallet.
#[component]
pub fn NewRoomPage() -> impl IntoView {
    view! { <RequireLogin><NewRoom/></RequireLogin> }
}

/// The asset of the signed-in user's wallet.
fn wallet_asset(session: Session) -> Option<Asset> {
    let wallet = session.user()?.wallet?;
    Some(Asset {
        code: AssetCode::parse(&wallet.asset_code).ok()?,
        scale: AssetScale::new(wallet.asset_scale).ok()?,
    })
}

#[component]
fn NewRoom() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let navigate = use_navigate();
    {
        // Prices are in the wallet's currency: without a wallet, set one first.
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if wallet_asset(session).is_none() {
                navigate(
                    &format!("{}?next={}", Page::Settings.path(), Page::NewRoom.path()),
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                );
            }
        });
    }
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let price = RwSignal::new(String::new());
    let stock = RwSignal::new(String::new());
    let delivery = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let asset = move || wallet_asset(session);
    let currency = move || {
        asset().map_or_else(String::new, |a| {
            let scale = a.scale.get();
            let code = a.code.to_string();
            if scale == 0 {
                // "Up to 0 decimal places" says nothing: whole units it is.
                return t_string!(i18n, new_room.price_hint_whole, code, example = "1500")
                    .to_string();
            }
            let example = {
                format!(
                    "12{}{}",
                    decimal_mark(i18n.get_locale()),
                    "5".repeat(usize::from(scale))
                )
            };
            t_string!(i18n, new_room.price_hint, code, scale, example).to_string()
        })
    };
    // The price as typed, in the reader's decimal mark, parsed exactly by the `shared` parser.
    let parsed_price = move || {
        let asset = asset()?;
        Some(Amount::parse_decimal_with(
            price.get().trim(),
            asset,
            decimal_mark(i18n.get_locale()),
        ))
    };
    let server_price_error = error_for(i18n, errors, "price");
    // Checked as typed; the server's answer for the field replaces it after a submit.
    let price_error = move || {
        if let Some(server) = server_price_error.get() {
            return Some(server);
        }
        if price.get().trim().is_empty() {
            return None;
        }
        parsed_price()?
            .err()
            .map(|e| text::field(i18n.get_locale(), e.code()).to_owned())
    };

    let create = Action::new_local(move |request: &CreateRoomRequest| {
        let request = request.clone();
        async move { api::rooms::create_room(session, &request).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(room)) => navigate(&room_path(&room.code), Default::default()),
        Some(Err(err)) => {
            let fields = err.fields();
            // Only the form's own fields have a place to show; anything else is said above the
            // button.
            let shown = ["name", "description", "price", "stock_limit", "delivery"]
                .iter()
                .any(|f| fields.get(f).is_some());
            form_error.set((!shown).then_some(err));
            errors.set(fields);
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(asset) = asset() else { return };
        // Sent in the API's own form (`12.50`), whatever the reader's decimal mark.
        let typed = price.get_untracked().trim().to_owned();
        let parsed = Amount::parse_decimal_with(
            &typed,
            asset.clone(),
            decimal_mark(i18n.get_locale_untracked()),
        );
        let price = parsed
            .as_ref()
            .map_or(typed, |amount| amount.to_decimal_string());
        let stock_limit = StockLimit::parse_optional(&stock.get_untracked());
        let request = CreateRoomRequest {
            name: name.get_untracked(),
            description: description.get_untracked(),
            price,
            stock_limit: stock_limit.ok().flatten().map(StockLimit::get),
            delivery: delivery.get_untracked(),
        };
        form_error.set(None);
        match (request.parse(asset), stock_limit) {
            (Err(mut fields), _) => {
                // The typed price's own problem, in the reader's decimal mark.
                if let Err(problem) = &parsed {
                    fields.insert("price", problem.clone());
                }
                if let Err(problem) = stock_limit {
                    fields.insert("stock_limit", problem);
                }
                errors.set(fields);
            }
            (Ok(_), Err(problem)) => errors.set(FieldErrors::one("stock_limit", problem)),
            (Ok(_), Ok(_)) => {
                errors.set(FieldErrors::new());
                create.dispatch(request);
            }
        }
    };
    let form_text = move || {
        form_error.get().map(|err| match err.code() {
            Some(ErrorCode::Conflict) if err.fields().get("wallet_address").is_some() => {
                t_string!(i18n, errors.no_wallet).to_owned()
            }
            _ => text::api_error(i18n.get_locale(), &err),
        })
    };

    view! {
        <section class="narrow">
            <Heading text=tr!(new_room.title)/>
            <p class="muted">{tr!(new_room.lead)}</p>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="name" label=tr!(new_room.name_label)
                    hint=tr!(new_room.name_hint) value=name error=error_for(i18n, errors, "name")/>
                <Field name="description" label=tr!(new_room.description_label)
                    hint=tr!(new_room.description_hint) multiline=true
                    value=description error=error_for(i18n, errors, "description")/>
                <Field name="price" label=tr!(new_room.price_label) hint=currency inputmode="decimal"
                    unit=Signal::derive(move || asset().map(|a| a.code.to_string())) value=price error=Signal::derive(price_error)/>
                <Field name="delivery" label=tr!(new_room.delivery_label)
                    hint=tr!(new_room.delivery_hint) multiline=true
                    value=delivery error=error_for(i18n, errors, "delivery")/>
                <Field name="stock_limit" label=tr!(new_room.stock_label) hint=tr!(new_room.stock_hint)
                    inputmode="numeric" value=stock error=error_for(i18n, errors, "stock_limit")/>
                <p class="form-error" role="alert">{form_text}</p>
                <button class="button" type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { t_string!(i18n, new_room.submitting) } else { t_string!(i18n, new_room.submit) }}
                </button>
            </form>
        </section>
    }
}
