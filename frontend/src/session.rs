//! The session: the access token lives in memory only; the HttpOnly refresh cookie restores it
//! on start-up, renews it shortly before it expires, and renews it when the server refuses it
//! (the timer does not run while a laptop sleeps). One renewal at a time: requests refused at
//! once all wait for the same one.

use std::time::Duration;

use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shifting_shared::api::{AuthResponse, UserResponse};

use crate::api;

/// Who is signed in, shared through context.
#[derive(Clone, Copy, Debug)]
pub struct Session {
    state: RwSignal<Option<SignedIn>>,
    /// False until the start-up refresh has answered, so pages do not flash "logged out".
    pub ready: RwSignal<bool>,
    generation: RwSignal<u64>,
    renewal: StoredValue<Option<Shared<LocalBoxFuture<'static, bool>>>, LocalStorage>,
}

/// A signed-in user and their access token.
#[derive(Clone, Debug, PartialEq)]
struct SignedIn {
    user: UserResponse,
    access_token: String,
}

impl Session {
    /// A session that restores itself from the refresh cookie.
    pub fn start() -> Self {
        let session = Self {
            state: RwSignal::new(None),
            ready: RwSignal::new(false),
            generation: RwSignal::new(0),
            renewal: StoredValue::new_local(None),
        };
        spawn_local(async move {
            if let Ok(auth) = api::auth::refresh().await {
                session.sign_in(auth);
            }
            session.ready.set(true);
        });
        session
    }

    /// Stores a fresh sign-in and schedules its renewal.
    pub fn sign_in(self, auth: AuthResponse) {
        let generation = self.generation.get_untracked() + 1;
        self.generation.set(generation);
        // Renew a minute before expiry (never sooner than 10 s from now).
        let renew_in = Duration::from_secs(auth.expires_in.saturating_sub(60).max(10));
        self.state.set(Some(SignedIn {
            user: auth.user,
            access_token: auth.access_token,
        }));
        set_timeout(
            move || {
                // A newer sign-in or a sign-out supersedes this timer.
                if self.generation.get_untracked() == generation {
                    spawn_local(async move {
                        self.renew(generation).await;
                    });
                }
            },
            renew_in,
        );
    }

    /// Changes with every sign-in and sign-out: which access token a request was sent with.
    pub fn generation(self) -> u64 {
        self.generation.get_untracked()
    }

    /// Renews the access token of sign-in `generation` from the refresh cookie. True when there
    /// is a fresh token to use: this renewal's, or that of a sign-in that already replaced
    /// `generation`. A refused refresh ends the session; a failed one (offline) keeps it.
    pub async fn renew(self, generation: u64) -> bool {
        if self.generation.get_untracked() != generation {
            return self.access_token().is_some();
        }
        let renewal = match self.renewal.get_value() {
            Some(renewal) => renewal,
            None => {
                let renewal = async move {
                    let renewed = match api::auth::refresh().await {
                        Ok(auth) => {
                            self.sign_in(auth);
                            true
                        }
                        Err(err) => {
                            if err.is_unauthorized() {
                                self.forget();
                            }
                            false
                        }
                    };
                    self.renewal.set_value(None);
                    renewed
                }
                .boxed_local()
                .shared();
                self.renewal.set_value(Some(renewal.clone()));
                renewal
            }
        };
        renewal.await
    }

    /// Forgets the session locally.
    pub fn forget(self) {
        self.generation.update(|g| *g += 1);
        self.state.set(None);
    }

    /// Ends the session on the server and locally.
    pub async fn sign_out(self) {
        let _ = api::auth::logout(self).await;
        self.forget();
    }

    /// Replaces the signed-in user's profile (after a change to it).
    pub fn set_user(self, user: UserResponse) {
        self.state.update(|s| {
            if let Some(signed_in) = s {
                signed_in.user = user;
            }
        });
    }

    /// The signed-in user (reactive).
    pub fn user(self) -> Option<UserResponse> {
        self.state.with(|s| s.as_ref().map(|s| s.user.clone()))
    }

    /// The signed-in user, without subscribing to changes.
    pub fn user_untracked(self) -> Option<UserResponse> {
        self.state
            .with_untracked(|s| s.as_ref().map(|s| s.user.clone()))
    }

    /// The current access token (not reactive).
    pub fn access_token(self) -> Option<String> {
        self.state
            .with_untracked(|s| s.as_ref().map(|s| s.access_token.clone()))
    }
}
