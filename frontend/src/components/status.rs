//! Status badges for payments and rooms.

use leptos::prelude::*;
use shifting_shared::{RoomStatus, TransactionStatus};

use crate::i18n::use_i18n;
use crate::text;

fn tone(status: TransactionStatus) -> &'static str {
    match status {
        TransactionStatus::Completed => "badge ok",
        TransactionStatus::Rejected | TransactionStatus::Expired | TransactionStatus::Refunded => {
            "badge off"
        }
        TransactionStatus::Failed => "badge bad",
        _ => "badge busy",
    }
}

/// A payment's status.
#[component]
pub fn StatusBadge(status: TransactionStatus) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class=tone(status) data-status=status.as_str()>
            {move || text::status(i18n.get_locale(), status)}
        </span>
    }
}

/// A room's status.
#[component]
pub fn RoomBadge(status: RoomStatus) -> impl IntoView {
    let i18n = use_i18n();
    let class = match status {
        RoomStatus::Open => "badge ok",
        RoomStatus::Paused => "badge busy",
        RoomStatus::Closed => "badge off",
    };
    view! {
        <span class=class data-room-status=status.as_str()>
            {move || text::room_status(i18n.get_locale(), status)}
        </span>
    }
}
