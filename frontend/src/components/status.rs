//! Status badges for payments and rooms.

use leptos::prelude::*;
use shifting_shared::{RoomStatus, TransactionStatus};

/// What a payment status means to people.
pub fn status_label(status: TransactionStatus) -> &'static str {
    match status {
        TransactionStatus::AwaitingApproval => "Awaiting approval",
        TransactionStatus::Approved => "Approved",
        TransactionStatus::Sending => "Sending",
        TransactionStatus::Completed => "Completed",
        TransactionStatus::Rejected => "Declined",
        TransactionStatus::Expired => "Expired",
        TransactionStatus::Failed => "Failed",
    }
}

fn tone(status: TransactionStatus) -> &'static str {
    match status {
        TransactionStatus::Completed => "badge ok",
        TransactionStatus::Rejected | TransactionStatus::Expired => "badge off",
        TransactionStatus::Failed => "badge bad",
        _ => "badge busy",
    }
}

/// A payment's status.
#[component]
pub fn StatusBadge(status: TransactionStatus) -> impl IntoView {
    view! { <span class=tone(status) data-status=status.as_str()>{status_label(status)}</span> }
}

/// A room's status.
#[component]
pub fn RoomBadge(status: RoomStatus) -> impl IntoView {
    let (class, label) = match status {
        RoomStatus::Open => ("badge ok", "Open"),
        RoomStatus::Paused => ("badge busy", "Paused"),
        RoomStatus::Closed => ("badge off", "Closed"),
    };
    view! { <span class=class data-room-status=status.as_str()>{label}</span> }
}
