//! `/u/{username}`: a seller's public profile (member since, completed sales, rating with its
//! spread, the verified-wallet badge, open rooms, reviews page by page), and
//! `/how-reviews-work`: what a review is and how ratings are counted.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shifting_shared::review::SellerProfileResponse;

use crate::api;
use crate::api::client::ApiError;
use crate::components::heading::Heading;
use crate::components::problem::Problem;
use crate::components::reviews::{
    Distribution, RatingLine, ReviewList, ReviewSource, VerifiedWallet,
};
use crate::format;
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::pages::{Page, room_path};
use crate::text::tr;

/// `/how-reviews-work`.
pub const POLICY_PATH: &str = "/how-reviews-work";

/// The profile page.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let params = use_params_map();
    let username = move || params.read().get("username").unwrap_or_default();
    let profile = LocalResource::new(move || {
        let username = username();
        async move { api::reviews::profile(&username).await }
    });
    view! {
        <Transition fallback=move || view! { <p class="muted" aria-busy="true">{tr!(profile.loading)}</p> }>
            {move || profile.get().map(|answer| match answer {
                Ok(found) => view! { <Profile profile=found/> }.into_any(),
                Err(ApiError::Api { status: 404, .. }) => view! {
                    <section class="narrow">
                        <Heading text=tr!(profile.not_found_title)/>
                        <p>{tr!(profile.not_found_text)}</p>
                        <A href=Page::Home.path() attr:class="button">{tr!(app.go_home)}</A>
                    </section>
                }.into_any(),
                Err(err) => view! { <Problem error=err retry=Callback::new(move |()| profile.refetch())/> }.into_any(),
            })}
        </Transition>
    }
}

fn sales_text(locale: Locale, count: u64) -> String {
    match count {
        0 => td_string!(locale, profile.sales_none).to_owned(),
        1 => td_string!(locale, profile.sales_one).to_owned(),
        count => td_string!(locale, profile.sales_many, count = count).to_string(),
    }
}

#[component]
fn Profile(profile: SellerProfileResponse) -> impl IntoView {
    let i18n = use_i18n();
    let since = profile.member_since;
    let sales = profile.completed_sales;
    let has_reviews = profile.rating.count > 0;
    view! {
        <section class="page profile" data-testid="profile">
            <Heading text=profile.username.clone()/>
            <p class="muted">
                {move || t_string!(i18n, profile.member_since, date = format::day(i18n.get_locale(), &since)).to_string()}
                " · "
                <span data-testid="completed-sales">{move || sales_text(i18n.get_locale(), sales)}</span>
            </p>
            {profile.wallet_badge.clone().map(|badge| view! { <VerifiedWallet badge=badge/> })}
            <div class="card rating-card">
                <RatingLine summary=profile.rating.clone() testid="seller-rating"/>
                {has_reviews.then(|| view! { <Distribution summary=profile.rating.clone()/> })}
                <p class="muted"><A href=POLICY_PATH>{tr!(reviews.how_link)}</A></p>
            </div>
            <h2>{tr!(profile.rooms_title)}</h2>
            {if profile.rooms.is_empty() {
                view! { <p class="muted">{tr!(profile.no_rooms)}</p> }.into_any()
            } else {
                view! {
                    <ul class="list">
                        {profile.rooms.clone().into_iter().map(|room| {
                            let price = room.price.clone();
                            view! {
                                <li class="row">
                                    <A href=room_path(&room.code)>{room.name.clone()}</A>
                                    <span>{move || format::amount(i18n.get_locale(), &price)}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <h2>{tr!(profile.reviews_title)}</h2>
            <ReviewList first=profile.reviews.clone() source=ReviewSource::Seller(profile.username.clone()) with_room=true/>
        </section>
    }
}

/// How reviews work: who can write one, what is shown and counted, and what the badge means
/// (what the EU's Omnibus Directive asks a site showing reviews to say).
#[component]
pub fn ReviewPolicyPage() -> impl IntoView {
    view! {
        <section class="narrow policy">
            <Heading text=tr!(policy.title)/>
            <p>{tr!(policy.only_buyers)}</p>
            <p>{tr!(policy.one_each)}</p>
            <p>{tr!(policy.all_shown)}</p>
            <p>{tr!(policy.replies)}</p>
            <p>{tr!(policy.badge)}</p>
        </section>
    }
}
