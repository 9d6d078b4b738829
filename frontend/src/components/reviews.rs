//! Ratings, reviews and the verified-wallet badge as every page shows them: a rating line (stars,
//! average, count), the spread over the stars, one review with the seller's reply, a list that
//! pages on with "Show more", and the badge naming the provider that verified the wallet.
//! Review texts are plain text: Leptos escapes them, so markup shows as typed.

use leptos::prelude::*;
use leptos_router::components::A;
use shifting_shared::WalletBadge;
use shifting_shared::review::{RatingSummary, ReviewPageResponse, ReviewResponse};

use crate::api;
use crate::api::client::ApiError;
use crate::components::problem::Problem;
use crate::format;
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::text::tr;

/// `/u/{username}`: a seller's public profile.
pub fn profile_path(username: &str) -> String {
    format!("/u/{username}")
}

/// Five stars, `stars` of them filled, for the eye; the words are for screen readers.
#[component]
pub fn Stars(stars: u8) -> impl IntoView {
    let i18n = use_i18n();
    let drawn: String = (1..=5)
        .map(|n| if n <= stars { '\u{2605}' } else { '\u{2606}' })
        .collect();
    view! {
        <span class="stars" role="img"
            aria-label=move || t_string!(i18n, reviews.rated, stars = stars).to_string()>{drawn}</span>
    }
}

/// "N reviews", or "No reviews yet".
pub fn count_text(locale: Locale, count: u32) -> String {
    match count {
        0 => td_string!(locale, reviews.none).to_owned(),
        1 => td_string!(locale, reviews.count_one).to_owned(),
        count => td_string!(locale, reviews.count_many, count = count).to_string(),
    }
}

/// The average with the reader's decimal mark: `4.3`, `4,3`.
fn average_text(locale: Locale, average: &str) -> String {
    average.replace('.', &format::decimal_mark(locale).to_string())
}

/// Stars for the rounded average, the average out of 5 and the count.
#[component]
pub fn RatingLine(summary: RatingSummary, #[prop(optional)] testid: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let count = summary.count;
    let average = summary.average.clone();
    let rounded = average.as_deref().and_then(|a| {
        a.split('.').next()?.parse::<u8>().ok().map(|whole| {
            let tenth = a
                .split('.')
                .nth(1)
                .and_then(|t| t.parse::<u8>().ok())
                .unwrap_or(0);
            whole + u8::from(tenth >= 5)
        })
    });
    view! {
        <span class="rating-line" data-testid=testid>
            {rounded.map(|stars| view! { <Stars stars=stars/> })}
            {average.map(|average| view! {
                <strong>{move || t_string!(i18n, reviews.out_of_five, average = average_text(i18n.get_locale(), &average)).to_string()}</strong>
            })}
            <span class="muted">{move || count_text(i18n.get_locale(), count)}</span>
        </span>
    }
}

/// How many reviews gave each number of stars, as bars with their numbers.
#[component]
pub fn Distribution(summary: RatingSummary) -> impl IntoView {
    let i18n = use_i18n();
    let total = summary.count.max(1);
    view! {
        <ul class="distribution" aria-label=move || t_string!(i18n, reviews.distribution_title).to_string()>
            {summary.distribution.iter().enumerate().rev().map(|(index, &count)| {
                let stars = index + 1;
                let width = format!("width:{}%", count * 100 / total);
                view! {
                    <li>
                        <span class="dist-label">{move || if stars == 1 {
                            t_string!(i18n, reviews.star_one).to_string()
                        } else {
                            t_string!(i18n, reviews.stars_n, stars = stars).to_string()
                        }}</span>
                        <span class="bar" aria-hidden="true"><span class="fill" style=width></span></span>
                        <span class="dist-count">{count}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// "Wallet verified by {provider} on {date}".
#[component]
pub fn VerifiedWallet(badge: WalletBadge) -> impl IntoView {
    let i18n = use_i18n();
    let (provider, at) = (badge.provider.clone(), badge.verified_at);
    view! {
        <p class="verified" data-testid="wallet-verified">
            <span aria-hidden="true">"\u{2714} "</span>
            {move || t_string!(i18n, reviews.verified, provider = provider.clone(), date = format::day(i18n.get_locale(), &at)).to_string()}
        </p>
    }
}

/// One review: stars, author, date, text, whether it was refunded, and the seller's reply.
#[component]
pub fn ReviewCard(
    review: ReviewResponse,
    /// Show which room it is about (on a seller's profile).
    #[prop(optional)]
    with_room: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let created = review.created_at;
    let edited = review.updated_at > review.created_at;
    let author = review.author.username.clone();
    let room = (with_room).then(|| (review.room_code.clone(), review.room_name.clone()));
    let session = expect_context::<crate::session::Session>();
    let (review_id, review_author) = (review.id, review.author.username.clone());
    view! {
        <article class="review" data-testid="review">
            <header class="review-head">
                <Stars stars=review.rating/>
                <span class="muted">
                    {move || t_string!(i18n, reviews.by_on, name = author.clone(), date = format::day(i18n.get_locale(), &created)).to_string()}
                    {edited.then(|| view! { " · " {tr!(reviews.edited)} })}
                </span>
                {review.refunded.then(|| view! { <span class="badge">{tr!(reviews.refunded)}</span> })}
            </header>
            {room.map(|(code, name)| view! {
                <p class="muted"><A href=crate::pages::room_path(&code)>{name}</A></p>
            })}
            {(!review.text.is_empty()).then(|| view! { <p class="review-text">{review.text.clone()}</p> })}
            {review.reply.clone().map(|reply| view! {
                <div class="reply" data-testid="reply">
                    <p class="muted">{tr!(reviews.reply_from_seller)}</p>
                    <p class="review-text">{reply.text}</p>
                </div>
            })}
            {move || session.user().is_some_and(|u| u.username != review_author).then(|| view! {
                <crate::components::report::Report target=shifting_shared::admin::ReportTarget::Review
                    target_id=review_id.to_string() id=format!("review-{review_id}")/>
            })}
        </article>
    }
}

/// Whose reviews a list shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReviewSource {
    /// A room's, by code.
    Room(String),
    /// All of a seller's rooms', by username.
    Seller(String),
}

/// Reviews from `first`, with "Show more" fetching the next pages from `source`.
#[component]
pub fn ReviewList(
    first: ReviewPageResponse,
    source: ReviewSource,
    /// Show which room each review is about.
    #[prop(optional)]
    with_room: bool,
) -> impl IntoView {
    let reviews = RwSignal::new(first.reviews);
    let next = RwSignal::new(first.next_cursor);
    let problem = RwSignal::new(None::<ApiError>);
    let fetch = Action::new_local(move |cursor: &String| {
        let (source, cursor) = (source.clone(), cursor.clone());
        async move {
            match &source {
                ReviewSource::Room(code) => api::reviews::of_room(code, Some(&cursor)).await,
                ReviewSource::Seller(name) => api::reviews::of_seller(name, Some(&cursor)).await,
            }
        }
    });
    Effect::new(move |_| match fetch.value().get() {
        Some(Ok(page)) => {
            reviews.update(|r| r.extend(page.reviews));
            next.set(page.next_cursor);
        }
        Some(Err(err)) => problem.set(Some(err)),
        None => {}
    });
    let load_more = move |_| {
        if let Some(cursor) = next.get_untracked() {
            problem.set(None);
            fetch.dispatch(cursor);
        }
    };
    view! {
        <div class="reviews">
            <Show when=move || reviews.with(Vec::is_empty)>
                <p class="muted">{tr!(reviews.none)}</p>
            </Show>
            {move || reviews.get().into_iter().map(|review| view! {
                <ReviewCard review=review with_room=with_room/>
            }).collect_view()}
            {move || problem.get().map(|err| view! { <Problem error=err retry=Callback::new(move |()| problem.set(None))/> })}
            <Show when=move || next.get().is_some()>
                <button class="button secondary" type="button" on:click=load_more
                    disabled=move || fetch.pending().get() aria-busy=move || fetch.pending().get().to_string()>
                    {tr!(reviews.show_more)}
                </button>
            </Show>
        </div>
    }
}
