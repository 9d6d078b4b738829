//! [`PaymentError`]: why a step of a payment did not succeed, the one error of the payments
//! module. Each names the [`Failure`] recorded for the buyer and reads as our own account of it
//! (the provider's error included), for the transaction's record and the logs.

use shifting_open_payments::client::OpenPaymentsError;

use super::Failure;
use crate::error::ApiError;

/// Why a step of a payment did not succeed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PaymentError {
    /// A wallet provider refused or failed a request; `step` says which, in words.
    #[error("{step}: {source}")]
    Provider {
        step: &'static str,
        #[source]
        source: OpenPaymentsError,
    },
    /// The buyer's wallet quoted the seller another amount than the price.
    #[error("The buyer's wallet quoted {got} for the seller instead of the price {want}")]
    WrongQuote { got: String, want: String },
    /// A provider answered with something this step cannot use.
    #[error("{0}")]
    Unusable(&'static str),
    /// Our own rules stop the payment: the room was paused or closed, the quote expired.
    #[error("{detail}")]
    Stopped {
        failure: Failure,
        detail: &'static str,
    },
    /// The one-click budget's token could not be had (our key, a failed rotation).
    #[error("The one-click budget's token could not be used: {0}")]
    Token(String),
    /// Something the step needs is not recorded on the transaction.
    #[error("The transaction has no {0}.")]
    Missing(&'static str),
    /// Our database failed.
    #[error("The payment could not be recorded: {0}")]
    Store(#[from] ApiError),
}

impl PaymentError {
    /// A provider's refusal or failure of `step`.
    pub(crate) fn provider(step: &'static str) -> impl FnOnce(OpenPaymentsError) -> Self {
        move |source| Self::Provider { step, source }
    }

    /// A database error of a step.
    pub(crate) fn store(err: impl Into<ApiError>) -> Self {
        Self::Store(err.into())
    }

    /// The failure recorded when this ends the payment.
    pub(crate) fn failure(&self) -> Failure {
        match self {
            Self::Stopped { failure, .. } => *failure,
            _ => Failure::ProviderError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_names_its_failure_and_reads_as_our_account() {
        let refused = PaymentError::provider("The buyer's wallet did not quote the payment")(
            OpenPaymentsError::InvalidUrl("https://wallet.example/%".into()),
        );
        assert_eq!(refused.failure(), Failure::ProviderError);
        let text = refused.to_string();
        assert!(
            text.starts_with("The buyer's wallet did not quote the payment: ")
                && text.contains("https://wallet.example/%"),
            "{text}"
        );
        let paused = PaymentError::Stopped {
            failure: Failure::RoomPaused,
            detail: "The seller paused the room before the payment was sent.",
        };
        assert_eq!(paused.failure(), Failure::RoomPaused);
        assert_eq!(
            paused.to_string(),
            "The seller paused the room before the payment was sent."
        );
        assert_eq!(
            PaymentError::Missing("quote").failure(),
            Failure::ProviderError
        );
    }
}
