//! Request and response bodies of the JSON API. Requests reject unknown fields, so a client can
//! never smuggle in a value the server did not ask for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::FieldErrors;
use crate::money::{Amount, format_decimal};
use crate::user::{Email, Password, Username};

/// `POST /api/auth/signup`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// 3–32 letters, digits, `_` or `-`; unique regardless of case.
    #[cfg_attr(feature = "openapi", schema(example = "alice"))]
    pub username: String,
    /// Unique e-mail address.
    #[cfg_attr(feature = "openapi", schema(example = "alice@example.com"))]
    pub email: String,
    /// 10–128 characters, not a common password.
    #[cfg_attr(feature = "openapi", schema(example = "correct horse battery", format = Password))]
    pub password: String,
}

/// A sign-up request whose fields all passed validation.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// The username.
    pub username: Username,
    /// The e-mail address.
    pub email: Email,
    /// The password.
    pub password: Password,
}

impl SignupRequest {
    /// Validates every field, reporting all problems at once.
    ///
    /// # Errors
    /// The problems, keyed by field name.
    pub fn parse(&self) -> Result<NewAccount, FieldErrors> {
        let mut errors = FieldErrors::new();
        let username = Username::parse(&self.username)
            .map_err(|e| errors.insert("username".into(), e.to_string()))
            .ok();
        let email = Email::parse(&self.email)
            .map_err(|e| errors.insert("email".into(), e.to_string()))
            .ok();
        let password = Password::parse(&self.password)
            .map_err(|e| errors.insert("password".into(), e.to_string()))
            .ok();
        match (username, email, password) {
            (Some(username), Some(email), Some(password)) => Ok(NewAccount {
                username,
                email,
                password,
            }),
            _ => Err(errors),
        }
    }
}

/// `POST /api/auth/login`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username (any case) or e-mail address.
    #[cfg_attr(feature = "openapi", schema(example = "alice"))]
    pub login: String,
    /// The password.
    #[cfg_attr(feature = "openapi", schema(example = "correct horse battery", format = Password))]
    pub password: String,
}

impl LoginRequest {
    /// Checks that both fields are present (the credentials themselves are checked by the server).
    ///
    /// # Errors
    /// The empty fields.
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.login.trim().is_empty() {
            errors.insert("login".into(), "is required".into());
        }
        if self.password.is_empty() {
            errors.insert("password".into(), "is required".into());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A buyer and seller.
    User,
    /// An operator.
    Admin,
}

/// The signed-in user's own profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserResponse {
    /// User id.
    pub id: Uuid,
    /// Username as typed at sign-up.
    pub username: String,
    /// E-mail address, lower-cased.
    pub email: String,
    /// Canonical wallet address URL, once set.
    pub wallet_address: Option<String>,
    /// Role.
    pub role: Role,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// A successful sign-up, log-in or refresh. The refresh token travels in an HttpOnly cookie.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthResponse {
    /// The user.
    pub user: UserResponse,
    /// A JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    #[cfg_attr(feature = "openapi", schema(example = "Bearer"))]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[cfg_attr(feature = "openapi", schema(example = 900))]
    pub expires_in: u64,
}

/// An amount on the wire, as in Open Payments: minor units as a string, with the asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AmountDto {
    /// Minor units, as a decimal string of digits.
    #[cfg_attr(feature = "openapi", schema(example = "1250"))]
    pub value: String,
    /// Asset code.
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub asset_code: String,
    /// Decimal places of the minor unit.
    #[cfg_attr(feature = "openapi", schema(example = 2))]
    pub asset_scale: u8,
}

impl From<&Amount> for AmountDto {
    fn from(amount: &Amount) -> Self {
        Self {
            value: amount.value().to_string(),
            asset_code: amount.asset().code.to_string(),
            asset_scale: amount.asset().scale.get(),
        }
    }
}

impl AmountDto {
    /// The amount in major units for people, such as `12.50 USD`, or the raw value if the
    /// server sent something malformed.
    #[must_use]
    pub fn display(&self) -> String {
        match (
            self.value.parse::<u64>(),
            crate::money::AssetScale::new(self.asset_scale),
        ) {
            (Ok(v), Ok(scale)) => format!("{} {}", format_decimal(v, scale), self.asset_code),
            _ => format!("{} {}", self.value, self.asset_code),
        }
    }
}

/// `GET /health` and `GET /ready`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    /// `ok`.
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signup_reports_every_bad_field_at_once() {
        let req = SignupRequest {
            username: "a".into(),
            email: "nope".into(),
            password: "short".into(),
        };
        let errors = req.parse().unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["email", "password", "username"]
        );
    }

    #[test]
    fn requests_reject_unknown_fields() {
        let err =
            serde_json::from_str::<LoginRequest>(r#"{"login":"a","password":"b","admin":true}"#)
                .unwrap_err();
        assert!(err.to_string().contains("unknown field `admin`"));
    }

    #[test]
    fn amounts_display_in_major_units() {
        let dto = AmountDto {
            value: "1250".into(),
            asset_code: "EUR".into(),
            asset_scale: 2,
        };
        assert_eq!(dto.display(), "12.50 EUR");
    }
}
