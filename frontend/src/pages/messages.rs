//! `/messages`: my conversations with sellers and buyers, and `/messages/{id}`: one of them,
//! with its payment entries, updated live over the socket (new entries, the other person's read
//! marker), history page by page, and a box to write in.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shifting_shared::conversation::{
    ConversationResponse, ConversationSide, LiveEvent, MessageResponse, MessageText, PaymentEvent,
};

use crate::api;
use crate::api::client::ApiError;
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::components::problem::Problem;
use crate::format;
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::live::Live;
use crate::pages::{room_path, transaction_path};
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The path of a conversation's page.
pub fn conversation_path(id: &str) -> String {
    format!("/messages/{id}")
}

/// What a payment entry says.
fn event_text(locale: Locale, event: PaymentEvent) -> &'static str {
    match event {
        PaymentEvent::Started => td_string!(locale, messages.event_started),
        PaymentEvent::Approved => td_string!(locale, messages.event_approved),
        PaymentEvent::Completed => td_string!(locale, messages.event_completed),
        PaymentEvent::Failed => td_string!(locale, messages.event_failed),
        PaymentEvent::Expired => td_string!(locale, messages.event_expired),
        PaymentEvent::Rejected => td_string!(locale, messages.event_rejected),
        PaymentEvent::Reviewed => td_string!(locale, messages.event_reviewed),
        PaymentEvent::Refunded => td_string!(locale, messages.event_refunded),
    }
}

/// One line about an entry, for the list.
fn preview(locale: Locale, message: &MessageResponse) -> String {
    match (&message.text, message.event) {
        (Some(text), _) => text.chars().take(120).collect(),
        (None, Some(event)) => event_text(locale, event).to_owned(),
        (None, None) => String::new(),
    }
}

/// The list of my conversations.
#[component]
pub fn MessagesPage() -> impl IntoView {
    view! { <RequireLogin><Conversations/></RequireLogin> }
}

#[component]
fn Conversations() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let first =
        LocalResource::new(move || async move { api::conversations::list(session, None).await });
    let more = RwSignal::new(Vec::<ConversationResponse>::new());
    let cursor = RwSignal::new(None::<String>);
    let loading_more = RwSignal::new(false);
    let more_error = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| {
        if let Some(Ok(page)) = first.get() {
            more.set(Vec::new());
            cursor.set(page.next_cursor);
        }
    });
    // A new entry anywhere moves its conversation up: read the first page again.
    expect_context::<Live>().listen(move |event| {
        if matches!(event, LiveEvent::Message { .. } | LiveEvent::Resync) {
            first.refetch();
        }
    });
    let load_more = move |_| {
        let Some(after) = cursor.get_untracked() else {
            return;
        };
        loading_more.set(true);
        spawn_local(async move {
            match api::conversations::list(session, Some(&after)).await {
                Ok(page) => {
                    more.update(|all| all.extend(page.conversations));
                    cursor.set(page.next_cursor);
                    more_error.set(None);
                }
                Err(err) => more_error.set(Some(err)),
            }
            loading_more.set(false);
        });
    };
    view! {
        <section class="page narrow">
            <Heading text=tr!(messages.title)/>
            <Transition fallback=move || view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }>
                {move || first.get().map(|answer| match answer {
                    Ok(page) if page.conversations.is_empty() => view! {
                        <p class="muted" data-testid="no-conversations">{tr!(messages.empty)}</p>
                    }.into_any(),
                    Ok(page) => view! {
                        <ul class="conversations" data-testid="conversations">
                            {page.conversations.into_iter().map(|c| view! { <ConversationRow c=c/> }).collect_view()}
                            {move || more.get().into_iter().map(|c| view! { <ConversationRow c=c/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(err) => view! { <Problem error=err retry=Callback::new(move |()| first.refetch())/> }.into_any(),
                })}
            </Transition>
            {move || cursor.get().map(|_| view! {
                <button class="button secondary" type="button" on:click=load_more disabled=move || loading_more.get()>
                    {tr!(messages.more_conversations)}
                </button>
            })}
            <p class="form-error" role="alert">{move || more_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
        </section>
    }
}

#[component]
fn ConversationRow(c: ConversationResponse) -> impl IntoView {
    let i18n = use_i18n();
    let other = match c.role {
        ConversationSide::Buyer => c.seller.username.clone(),
        ConversationSide::Seller => c.buyer.username.clone(),
    };
    let unread = c.unread;
    let has_unread = unread > 0;
    let last = c.last_message.clone();
    view! {
        <li class="conversation-row" class:unread=has_unread data-testid="conversation-row">
            <A href=conversation_path(&c.id.to_string())>
                <span class="conversation-head">
                    <strong>{c.room.name.clone()}</strong>
                    " · "
                    <span>{other}</span>
                    {(unread > 0).then(|| view! {
                        <span class="badge" data-testid="conversation-unread">
                            {move || t_string!(i18n, messages.unread_count, count = unread).to_string()}
                        </span>
                    })}
                </span>
                {last.map(|m| {
                    let at = m.created_at;
                    view! {
                        <span class="conversation-preview muted">
                            {move || preview(i18n.get_locale(), &m)}
                            " · "
                            {move || format::date_time(i18n.get_locale(), &at)}
                        </span>
                    }
                })}
            </A>
        </li>
    }
}

/// One conversation.
#[component]
pub fn ConversationPage() -> impl IntoView {
    view! { <RequireLogin><Thread/></RequireLogin> }
}

/// Adds `incoming` to `entries` (oldest first), each id once.
fn merge(entries: &mut Vec<MessageResponse>, incoming: impl IntoIterator<Item = MessageResponse>) {
    for message in incoming {
        if !entries.iter().any(|m| m.id == message.id) {
            entries.push(message);
        }
    }
    entries.sort_by_key(|m| m.id);
}

#[component]
fn Thread() -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let conversation = LocalResource::new(move || {
        let id = id();
        async move { api::conversations::get(session, &id).await }
    });
    let entries = RwSignal::new(Vec::<MessageResponse>::new());
    let older = RwSignal::new(None::<String>);
    let other_read = RwSignal::new(0_i64);
    let my_role = RwSignal::new(None::<ConversationSide>);
    let load_error = RwSignal::new(None::<ApiError>);
    let marked = StoredValue::new(0_i64);
    let latest = move || {
        let id = id();
        spawn_local(async move {
            match api::conversations::messages(session, &id, None).await {
                Ok(page) => {
                    entries.update(|all| merge(all, page.messages));
                    if older.get_untracked().is_none() {
                        older.set(page.next_cursor);
                    }
                    load_error.set(None);
                }
                Err(err) => load_error.set(Some(err)),
            }
        });
    };
    Effect::new(move |_| {
        if let Some(Ok(c)) = conversation.get() {
            other_read.set(c.other_read_up_to);
            my_role.set(Some(c.role));
        }
    });
    Effect::new(move |_| {
        let _ = id();
        marked.set_value(0);
        entries.set(Vec::new());
        older.set(None);
        latest();
    });
    // What is on screen is read: the marker follows the newest entry from the other person
    // (asked once per entry).
    Effect::new(move |_| {
        let Some(role) = my_role.get() else { return };
        let newest_from_other = entries.with(|all| {
            all.iter()
                .rev()
                .find(|m| m.from.is_some_and(|from| from != role))
                .map(|m| m.id)
        });
        if let Some(up_to) = newest_from_other
            && marked.get_value() < up_to
        {
            marked.set_value(up_to);
            let id = id();
            spawn_local(async move {
                let _ = api::conversations::read(session, &id, up_to).await;
            });
        }
    });
    live.listen(move |event| match event {
        LiveEvent::Message { message } if message.conversation_id.to_string() == id() => {
            entries.update(|all| merge(all, [message]));
        }
        LiveEvent::Read {
            conversation_id,
            role,
            up_to,
        } if conversation_id.to_string() == id() && Some(role) != my_role.get_untracked() => {
            other_read.update(|r| *r = (*r).max(up_to));
        }
        LiveEvent::Resync => latest(),
        _ => {}
    });
    // Reconnected after a drop: the socket resumes from its last id; read the newest page too.
    Effect::new(move |was: Option<bool>| {
        let now = live.connected.get();
        if now && was == Some(false) {
            latest();
        }
        now
    });
    let loading_older = RwSignal::new(false);
    let load_older = move |_| {
        let Some(before) = older.get_untracked() else {
            return;
        };
        loading_older.set(true);
        let id = id();
        spawn_local(async move {
            match api::conversations::messages(session, &id, Some(&before)).await {
                Ok(page) => {
                    entries.update(|all| merge(all, page.messages));
                    older.set(page.next_cursor);
                }
                Err(err) => load_error.set(Some(err)),
            }
            loading_older.set(false);
        });
    };
    view! {
        <section class="page narrow thread">
            <Transition fallback=move || view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }>
                {move || conversation.get().map(|answer| match answer {
                    Ok(c) => {
                        let other = match c.role {
                            ConversationSide::Buyer => c.seller.username.clone(),
                            ConversationSide::Seller => c.buyer.username.clone(),
                        };
                        let title = {
                            let other = other.clone();
                            move || t_string!(i18n, messages.with, name = other.clone()).to_string()
                        };
                        view! {
                            <Heading text=title/>
                            <p class="muted">{tr!(messages.about)} " "
                                <A href=room_path(&c.room.code)>{c.room.name.clone()}</A></p>
                        }.into_any()
                    }
                    Err(err) => view! { <Problem error=err retry=Callback::new(move |()| conversation.refetch())/> }.into_any(),
                })}
            </Transition>
            {move || older.get().map(|_| view! {
                <button class="button secondary" type="button" data-testid="older" on:click=load_older disabled=move || loading_older.get()>
                    {tr!(messages.older)}
                </button>
            })}
            <div role="log" aria-live="polite" aria-label=move || t_string!(i18n, messages.log_label) data-testid="messages">
                <ol class="messages">
                    <For each=move || entries.get() key=|m| m.id let:m>
                        <Entry m=m mine=my_role other_read=other_read/>
                    </For>
                </ol>
            </div>
            <p class="form-error" role="alert">{move || load_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
            <Composer id=Signal::derive(id) entries=entries/>
        </section>
    }
}

#[component]
fn Entry(
    m: MessageResponse,
    mine: RwSignal<Option<ConversationSide>>,
    other_read: RwSignal<i64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let at = m.created_at;
    let when = move || format::date_time(i18n.get_locale(), &at);
    match (m.from, m.event) {
        (None, Some(event)) => {
            let link = m.transaction_id.map(|t| transaction_path(&t.to_string()));
            view! {
                <li class="entry system" data-testid="payment-entry" data-event=event.as_str()>
                    <span>{move || event_text(i18n.get_locale(), event)}</span>
                    {link.map(|href| view! { " " <A href=href>{tr!(messages.see_payment)}</A> })}
                    <span class="muted"> " · " {when}</span>
                </li>
            }
            .into_any()
        }
        (from, _) => {
            let id = m.id;
            let is_mine = move || from.is_some() && from == mine.get();
            view! {
                <li class="entry" class:mine=is_mine data-testid="message">
                    <p class="bubble">{m.text.clone().unwrap_or_default()}</p>
                    <span class="muted small">{when}
                        {move || (is_mine() && other_read.get() >= id).then(|| view! {
                            " · " <span data-testid="seen">{tr!(messages.seen)}</span>
                        })}
                    </span>
                    {move || (from.is_some() && !is_mine()).then(|| view! {
                        <crate::components::report::Report target=shifting_shared::admin::ReportTarget::Message
                            target_id=id.to_string() id=format!("message-{id}")/>
                    })}
                </li>
            }
            .into_any()
        }
    }
}

#[component]
fn Composer(id: Signal<String>, entries: RwSignal<Vec<MessageResponse>>) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let send = Action::new_local(move |text: &String| {
        let (id, text) = (id.get_untracked(), text.clone());
        async move { api::conversations::post(session, &id, text).await }
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(message)) => {
            entries.update(|all| merge(all, [message]));
            draft.set(String::new());
            error.set(None);
        }
        Some(Err(err)) => error.set(Some(err)),
        None => {}
    });
    let chars = move || draft.with(|d| d.trim().chars().count());
    let valid = move || MessageText::parse(&draft.get()).is_ok();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if valid() && !send.pending().get_untracked() {
            send.dispatch(draft.get_untracked());
        }
    };
    view! {
        <form class="composer" on:submit=submit>
            <label for="message-text">{tr!(messages.write_label)}</label>
            <textarea id="message-text" rows="3" maxlength="4000" data-testid="message-text"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
            <div class="composer-foot">
                <span class="muted small" aria-live="polite">{move || {
                    let n = chars();
                    (n > MessageText::MAX_CHARS - 200).then(|| t_string!(i18n, messages.chars_left, count = MessageText::MAX_CHARS.saturating_sub(n)).to_string())
                }}</span>
                <button class="button" type="submit" data-testid="send-message" disabled=move || !valid() || send.pending().get()>
                    {tr!(messages.send)}
                </button>
            </div>
            <p class="form-error" role="alert">{move || error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
        </form>
    }
}
