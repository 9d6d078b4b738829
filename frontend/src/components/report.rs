//! "Report": a signed-in person flags a room, a review or a message for the platform's admins,
//! with a reason and their words.

use leptos::prelude::*;
use shifting_shared::FieldErrors;
use shifting_shared::admin::{CreateReportRequest, ReportReason, ReportTarget};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::error_for;
use crate::i18n::{t_string, use_i18n};
use crate::pages::admin::report_reason;
use crate::pages::show_refusal;
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// A "Report" disclosure with its form; says thank you once sent. `id` makes its fields'
/// element ids unique on a page that reports several things.
#[component]
pub fn Report(target: ReportTarget, target_id: String, id: String) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let reason = RwSignal::new(String::from("fraud"));
    let words = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let send = Action::new_local(move |request: &CreateReportRequest| {
        let request = request.clone();
        async move { api::admin::report(session, &request).await }
    });
    Effect::new(move |_| {
        if let Some(Err(err)) = send.value().get() {
            show_refusal(err, errors, form_error);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        errors.set(FieldErrors::new());
        let reason = match reason.get_untracked().as_str() {
            "spam" => ReportReason::Spam,
            "offensive" => ReportReason::Offensive,
            "prohibited" => ReportReason::Prohibited,
            "other" => ReportReason::Other,
            _ => ReportReason::Fraud,
        };
        send.dispatch(CreateReportRequest {
            target_type: target,
            target_id: target_id.clone(),
            reason,
            text: words.get_untracked(),
        });
    };
    let (reason_id, text_id) = (format!("report-reason-{id}"), format!("report-text-{id}"));
    let text_error = error_for(i18n, errors, "text");
    let text_error_id = format!("{text_id}-error");
    view! {
        <details class="report-box" data-testid="report">
            <summary>{tr!(reports.report)}</summary>
            {move || if matches!(send.value().get(), Some(Ok(_))) {
                view! { <p class="result" role="status" data-testid="report-sent">{tr!(reports.sent)}</p> }.into_any()
            } else {
                let (reason_id, text_id, text_error_id) = (reason_id.clone(), text_id.clone(), text_error_id.clone());
                let on_submit = on_submit.clone();
                view! {
                    <form class="stack" on:submit=on_submit novalidate>
                        <p class="muted small">{tr!(reports.intro)}</p>
                        <label for=reason_id.clone()>{tr!(reports.reason_label)}</label>
                        <select id=reason_id on:change=move |ev| reason.set(event_target_value(&ev)) prop:value=move || reason.get()>
                            {ReportReason::all().map(|each| view! {
                                <option value=each.as_str()>{move || report_reason(i18n.get_locale(), each)}</option>
                            }).collect_view()}
                        </select>
                        <label for=text_id.clone()>{tr!(reports.text_label)}</label>
                        <textarea id=text_id rows="3" bind:value=words
                            aria-invalid=move || if text_error.get().is_some() { "true" } else { "false" }
                            aria-describedby=text_error_id.clone()></textarea>
                        <p class="field-error" id=text_error_id>{move || text_error.get()}</p>
                        <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                        <button class="button secondary" type="submit" data-testid="report-send" disabled=move || send.pending().get()>
                            {move || if send.pending().get() { t_string!(i18n, reports.sending) } else { t_string!(i18n, reports.send) }}
                        </button>
                    </form>
                }.into_any()
            }}
        </details>
    }
}
