//! The account beyond signing in: the language mail is written in, which notices a person
//! wants, and the bodies of password reset, e-mail verification and change, password change
//! and account deletion.

use serde::{Deserialize, Serialize};

use crate::error::{FieldCode, FieldError, FieldErrors};
use crate::user::{Email, Password};

/// A language the product writes in (the web app, receipts, mail).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Language {
    /// Every language, in the order menus list them.
    pub const ALL: [Self; 2] = [Self::En, Self::Es];

    /// The BCP 47 tag: `en`, `es`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
        }
    }

    /// The language a stored or sent tag names; English for any other.
    #[must_use]
    pub fn from_tag(tag: &str) -> Self {
        match tag.get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("es") => Self::Es,
            _ => Self::En,
        }
    }
}

/// The notices a person may turn off. Receipts and account-security mail always go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MailPreferences {
    /// "You sold …" when a buyer's payment reaches the seller's wallet.
    pub sales: bool,
    /// A purchase that failed, expired or was declined and needs the buyer again.
    pub payment_problems: bool,
    /// A conversation message not read within ten minutes.
    #[serde(default = "yes")]
    pub messages: bool,
}

fn yes() -> bool {
    true
}

impl Default for MailPreferences {
    fn default() -> Self {
        Self {
            sales: true,
            payment_problems: true,
            messages: true,
        }
    }
}

/// One notice a person can unsubscribe from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// [`MailPreferences::sales`].
    Sales,
    /// [`MailPreferences::payment_problems`].
    PaymentProblems,
    /// [`MailPreferences::messages`].
    Messages,
}

/// `PUT /api/me/preferences`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    /// The language of the mail they get.
    pub language: Language,
    /// The notices they want.
    pub mail: MailPreferences,
}

/// `POST /api/auth/password-reset`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The account's e-mail address.
    #[cfg_attr(feature = "openapi", schema(example = "alice@example.com"))]
    pub email: String,
}

impl PasswordResetRequest {
    /// The address, when it is one.
    ///
    /// # Errors
    /// The `email` field's problem.
    pub fn parse(&self) -> Result<Email, FieldErrors> {
        Email::parse(self.email.trim()).map_err(|e| FieldErrors::one("email", e))
    }
}

/// `POST /api/auth/password-reset/confirm`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The token from the mailed link.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "q3Yx0Jx7Qm2Yw0H2m5x1bJ8N4fGQ0a2V3s9Lk7Rt1Zc")
    )]
    pub token: String,
    /// 10–128 characters, not a common password.
    #[cfg_attr(feature = "openapi", schema(example = "a new correct horse", format = Password))]
    pub password: String,
}

impl PasswordResetConfirm {
    /// The new password, when acceptable.
    ///
    /// # Errors
    /// The problems, keyed by field name.
    pub fn parse(&self) -> Result<Password, FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.token.trim().is_empty() {
            errors.insert("token", FieldError::new(FieldCode::Required, "is required"));
        }
        let password = Password::parse(&self.password)
            .map_err(|e| errors.insert("password", e))
            .ok();
        match password {
            Some(password) if errors.is_empty() => Ok(password),
            _ => Err(errors),
        }
    }
}

/// `POST /api/auth/verify-email`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The token from the mailed link.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Vb4k9T1xQ0m7Yp2Lr6s8Hd3Nw5Jc0aZe1Fg7Ui9Oq2E")
    )]
    pub token: String,
}

/// The answer to a confirmed e-mail link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailConfirmed {
    /// The address now confirmed on the account.
    #[cfg_attr(feature = "openapi", schema(example = "alice@example.org"))]
    pub email: String,
    /// Whether the link changed the account's address (else it confirmed the existing one).
    pub changed: bool,
}

/// `POST /api/me/password`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password the account has now.
    #[cfg_attr(feature = "openapi", schema(format = Password, example = "the password I have now"))]
    pub current_password: String,
    /// 10–128 characters, not a common password.
    #[cfg_attr(feature = "openapi", schema(format = Password, example = "a new correct horse"))]
    pub new_password: String,
}

impl ChangePasswordRequest {
    /// The new password, when acceptable and the current one is given.
    ///
    /// # Errors
    /// The problems, keyed by field name.
    pub fn parse(&self) -> Result<Password, FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.current_password.is_empty() {
            errors.insert(
                "current_password",
                FieldError::new(FieldCode::Required, "is required"),
            );
        }
        let password = Password::parse(&self.new_password)
            .map_err(|e| errors.insert("new_password", e))
            .ok();
        match password {
            Some(password) if errors.is_empty() => Ok(password),
            _ => Err(errors),
        }
    }
}

/// `POST /api/me/email`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeEmailRequest {
    /// The new address (confirmed by a link sent to it).
    #[cfg_attr(feature = "openapi", schema(example = "alice@example.org"))]
    pub email: String,
    /// The account's password.
    #[cfg_attr(feature = "openapi", schema(format = Password, example = "the password I have now"))]
    pub password: String,
}

impl ChangeEmailRequest {
    /// The new address, when it is one and the password is given.
    ///
    /// # Errors
    /// The problems, keyed by field name.
    pub fn parse(&self) -> Result<Email, FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.password.is_empty() {
            errors.insert(
                "password",
                FieldError::new(FieldCode::Required, "is required"),
            );
        }
        let email = Email::parse(self.email.trim())
            .map_err(|e| errors.insert("email", e))
            .ok();
        match email {
            Some(email) if errors.is_empty() => Ok(email),
            _ => Err(errors),
        }
    }
}

/// `DELETE /api/me`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The account's password.
    #[cfg_attr(feature = "openapi", schema(format = Password, example = "the password I have now"))]
    pub password: String,
}

/// A request taken that acts later (a mail is on its way).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accepted {
    /// What happens next, for people.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "If an account has this address, a link is on its way.")
    )]
    pub message: String,
}

/// The answer to an unsubscribe link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unsubscribed {
    /// The notice now turned off.
    pub notice: Notice,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_language_is_read_from_its_tag_or_defaults_to_english() {
        assert_eq!(Language::from_tag("es"), Language::Es);
        assert_eq!(Language::from_tag("ES-mx"), Language::Es);
        assert_eq!(Language::from_tag("en"), Language::En);
        assert_eq!(Language::from_tag("fr"), Language::En);
        assert_eq!(Language::from_tag(""), Language::En);
        for language in Language::ALL {
            assert_eq!(Language::from_tag(language.as_str()), language);
        }
    }

    #[test]
    fn the_requests_report_every_problem_by_field() {
        let bad = ChangePasswordRequest {
            current_password: String::new(),
            new_password: "short".into(),
        };
        let errors = bad.parse().unwrap_err();
        assert_eq!(
            errors.get("current_password").unwrap().code,
            FieldCode::Required
        );
        assert_eq!(
            errors.get("new_password").unwrap().code,
            FieldCode::PasswordTooShort
        );
        let change = ChangeEmailRequest {
            email: " Alice@Example.ORG ".into(),
            password: "x".into(),
        };
        assert_eq!(change.parse().unwrap().as_str(), "alice@example.org");
        let reset = PasswordResetConfirm {
            token: " ".into(),
            password: "a new correct horse".into(),
        };
        assert_eq!(
            reset.parse().unwrap_err().get("token").unwrap().code,
            FieldCode::Required
        );
    }
}
