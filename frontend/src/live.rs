//! The live socket: while someone is signed in, one WebSocket to `/api/live` brings new
//! messages, read markers, the unread total and payment status changes. Pages listen for the
//! events they show; the payment pages poll only while the socket is not connected.
//!
//! It reconnects after a drop (1 s, doubling up to 30 s), resuming after the last message id it
//! saw, so nothing is missed; it closes and reopens when the user signs out or in.
//!
//! `localStorage["shifting.live"] = "off"` keeps this browser from opening the socket (to
//! diagnose a network or proxy that breaks WebSockets: pages then poll as they would without it).

use std::time::Duration;

use futures::channel::oneshot;
use futures::{FutureExt, StreamExt};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shifting_shared::conversation::LiveEvent;

use crate::api;
use crate::session::Session;

/// The live connection, shared through context.
#[derive(Clone, Copy, Debug)]
pub struct Live {
    /// Whether the socket is open and authenticated.
    pub connected: RwSignal<bool>,
    /// The signed-in user's unread total, once known.
    pub unread: RwSignal<Option<u32>>,
    listeners: StoredValue<Vec<(u64, Callback<LiveEvent>)>, LocalStorage>,
    next_listener: StoredValue<u64>,
    last_message: StoredValue<Option<i64>>,
    session_changed: StoredValue<Option<oneshot::Sender<()>>, LocalStorage>,
}

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(30);

impl Live {
    /// Starts following `session`: connected while someone is signed in.
    pub fn start(session: Session) -> Self {
        let live = Self {
            connected: RwSignal::new(false),
            unread: RwSignal::new(None),
            listeners: StoredValue::new_local(Vec::new()),
            next_listener: StoredValue::new(0),
            last_message: StoredValue::new(None),
            session_changed: StoredValue::new_local(None),
        };
        // Any sign-in or sign-out ends the current socket (or the wait for one).
        Effect::new(move |_| {
            let _ = (session.ready.get(), session.user().map(|u| u.username));
            if let Some(tell) = live
                .session_changed
                .try_update_value(Option::take)
                .flatten()
            {
                let _ = tell.send(());
            }
        });
        spawn_local(live.run(session));
        live
    }

    /// Calls `listener` with every event while the calling component lives.
    pub fn listen(self, listener: impl Fn(LiveEvent) + Send + Sync + 'static) {
        let id = self.next_listener.get_value();
        self.next_listener.set_value(id + 1);
        self.listeners
            .update_value(|all| all.push((id, Callback::new(listener))));
        on_cleanup(move || {
            let _ = self
                .listeners
                .try_update_value(|all| all.retain(|(other, _)| *other != id));
        });
    }

    fn emit(self, event: &LiveEvent) {
        let listeners: Vec<Callback<LiveEvent>> = self
            .listeners
            .with_value(|all| all.iter().map(|(_, l)| *l).collect());
        for listener in listeners {
            listener.run(event.clone());
        }
    }

    /// A future that resolves at the next sign-in or sign-out.
    fn session_change(self) -> oneshot::Receiver<()> {
        let (tell, told) = oneshot::channel();
        self.session_changed.set_value(Some(tell));
        told
    }

    async fn run(self, session: Session) {
        let mut retry = FIRST_RETRY;
        loop {
            let changed = self.session_change();
            if turned_off() {
                if session.user_untracked().is_some()
                    && let Ok(unread) = api::conversations::unread(session).await
                {
                    self.unread.set(Some(unread.total));
                }
                let _ = changed.await;
                continue;
            }
            if !session.ready.get_untracked() || session.user_untracked().is_none() {
                self.connected.set(false);
                self.unread.set(None);
                self.last_message.set_value(None);
                let _ = changed.await;
                retry = FIRST_RETRY;
                continue;
            }
            let opened = self.connect(session, changed).await;
            self.connected.set(false);
            if opened {
                retry = FIRST_RETRY;
            } else if self.unread.get_untracked().is_none()
                && let Ok(unread) = api::conversations::unread(session).await
            {
                // Without a socket the badge still shows what the API says.
                self.unread.set(Some(unread.total));
            }
            sleep(retry).await;
            retry = (retry * 2).min(LONGEST_RETRY);
        }
    }

    /// One socket, until it drops or the session changes; whether it was opened.
    async fn connect(self, session: Session, changed: oneshot::Receiver<()>) -> bool {
        let Ok(ticket) = api::conversations::ticket(session).await else {
            return false;
        };
        let after = self
            .last_message
            .get_value()
            .map(|id| format!("&after={id}"))
            .unwrap_or_default();
        let Some(url) = socket_url(&format!("/api/live?ticket={}{after}", ticket.ticket)) else {
            return false;
        };
        let Ok(socket) = WebSocket::open(&url) else {
            return false;
        };
        let mut socket = socket.fuse();
        let mut opened = false;
        let mut changed = changed.fuse();
        loop {
            futures::select! {
                frame = socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        let Ok(event) = serde_json::from_str::<LiveEvent>(&text) else {
                            continue;
                        };
                        match &event {
                            LiveEvent::Ready { unread } => {
                                opened = true;
                                self.connected.set(true);
                                self.unread.set(Some(*unread));
                            }
                            LiveEvent::Unread { total } => self.unread.set(Some(*total)),
                            LiveEvent::Message { message } => {
                                let newest = self.last_message.get_value().max(Some(message.id));
                                self.last_message.set_value(newest);
                            }
                            _ => {}
                        }
                        self.emit(&event);
                    }
                    Some(Ok(Message::Bytes(_))) => {}
                    Some(Err(_)) | None => return opened,
                },
                _ = changed => {
                    let _ = socket.into_inner().close(Some(1000), Some("signed out"));
                    return opened;
                }
            }
        }
    }
}

/// Whether this browser was told not to open the socket.
fn turned_off() -> bool {
    window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|storage| storage.get_item("shifting.live").ok().flatten())
        .is_some_and(|value| value == "off")
}

/// `ws://` or `wss://` for `path` on this page's host.
fn socket_url(path: &str) -> Option<String> {
    let location = window().location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}{path}", location.host().ok()?))
}

/// Resolves after `duration` (a browser timer).
async fn sleep(duration: Duration) {
    let (done, wait) = oneshot::channel();
    set_timeout(
        move || {
            let _ = done.send(());
        },
        duration,
    );
    let _ = wait.await;
}
