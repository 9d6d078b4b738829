//! The session: the access token lives in memory only; the HttpOnly refresh cookie restores it
//! on start-up and renews it shortly before it expires.

use std::time::Duration;

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
                        match api::auth::refresh().await {
                            Ok(auth) => self.sign_in(auth),
                            Err(err) if err.is_unauthorized() => self.forget(),
                            Err(_) => {}
                        }
                    });
                }
            },
            renew_in,
        );
    }

    /// Forgets the session locally.
    pub fn forget(self) {
        self.generation.update(|g| *g += 1);
        self.state.set(None);
    }

    /// Ends the session on the server and locally.
    pub async fn sign_out(self) {
        let token = self.access_token();
        let _ = api::auth::logout(token.as_deref()).await;
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

    /// The current access token (not reactive).
    pub fn access_token(self) -> Option<String> {
        self.state
            .with_untracked(|s| s.as_ref().map(|s| s.access_token.clone()))
    }
}
