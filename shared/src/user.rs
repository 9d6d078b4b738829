//! Account identity types: usernames, e-mail addresses and passwords.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// A username: 3–32 characters from ASCII letters, digits, `_` and `-`.
///
/// Usernames keep the case the user typed for display, but compare, hash and look up
/// case-insensitively (see [`Username::key`]).
#[derive(Clone, Debug, Eq)]
pub struct Username(String);

/// Why a string is not a [`Username`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Fewer than [`Username::MIN_LEN`] or more than [`Username::MAX_LEN`] characters.
    #[error("must be between 3 and 32 characters long")]
    Length,
    /// A character outside letters, digits, `_` and `-`.
    #[error("may contain only letters, digits, '_' and '-'")]
    Character,
}

impl Username {
    /// Shortest accepted username.
    pub const MIN_LEN: usize = 3;
    /// Longest accepted username.
    pub const MAX_LEN: usize = 32;

    /// Parses a username.
    ///
    /// # Errors
    /// [`UsernameError`] when the length or a character is not allowed.
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        if !input
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(UsernameError::Character);
        }
        // Only ASCII is left, so bytes are characters.
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&input.len()) {
            return Err(UsernameError::Length);
        }
        Ok(Self(input.to_owned()))
    }

    /// The username as typed.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive lookup key (lower-case), unique across users.
    #[must_use]
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl PartialEq for Username {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Hash for Username {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Username {
    type Err = UsernameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// An e-mail address, lower-cased, without display text or IP-literal domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why a string is not an [`Email`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Longer than [`Email::MAX_LEN`].
    #[error("must be at most 254 characters long")]
    TooLong,
    /// Not of the form `name@domain.tld`.
    #[error("is not a valid e-mail address")]
    Invalid,
}

impl Email {
    /// Longest accepted address (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Parses and lower-cases an e-mail address.
    ///
    /// # Errors
    /// [`EmailError`] when the address is too long or malformed.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        if input.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let options = email_address::Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        let parsed = email_address::EmailAddress::parse_with_options(input, options)
            .map_err(|_| EmailError::Invalid)?;
        let domain = parsed.domain();
        // A deliverable address needs a dotted domain; quoted local parts are legal but are
        // almost always typos here.
        if !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || parsed.local_part().starts_with('"')
        {
            return Err(EmailError::Invalid);
        }
        Ok(Self(input.to_lowercase()))
    }

    /// The address, lower-cased.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A new password that meets the policy: 10–128 characters and not one of the most common
/// passwords. Its `Debug` output never shows the password.
#[derive(Clone)]
pub struct Password(String);

/// Why a string is not an acceptable [`Password`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`Password::MIN_LEN`] characters.
    #[error("must be at least 10 characters long")]
    TooShort,
    /// More than [`Password::MAX_LEN`] characters.
    #[error("must be at most 128 characters long")]
    TooLong,
    /// One of the most common passwords.
    #[error("is too common; choose a less predictable password")]
    TooCommon,
}

/// Common passwords of policy length, from public breach corpora (compared case-insensitively).
const COMMON_PASSWORDS: &[&str] = &[
    "0123456789",
    "1111111111",
    "1234567890",
    "12345678910",
    "123456789a",
    "1234567890a",
    "123123123123",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "0987654321",
    "9876543210",
    "abcd123456",
    "abc1234567",
    "aaaaaaaaaa",
    "abcdefghij",
    "asdfghjkl1",
    "baseball123",
    "changeme123",
    "christopher",
    "football123",
    "iloveyou12",
    "iloveyou123",
    "letmein123",
    "monkey1234",
    "password01",
    "password1!",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "princess123",
    "q1w2e3r4t5",
    "qazwsxedc123",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "qwertyuiop",
    "qwertyuiop1",
    "sunshine123",
    "superman123",
    "trustno1234",
    "welcome123",
    "welcome1234",
    "zaq12wsxcde",
    "zxcvbnm123",
    "shifting123",
];

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN_LEN: usize = 10;
    /// Longest accepted password, in characters.
    pub const MAX_LEN: usize = 128;

    /// Checks a new password against the policy.
    ///
    /// # Errors
    /// [`PasswordError`] when the password is too short, too long or too common.
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        let chars = input.chars().count();
        if chars < Self::MIN_LEN {
            return Err(PasswordError::TooShort);
        }
        if chars > Self::MAX_LEN {
            return Err(PasswordError::TooLong);
        }
        let lower = input.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(input.to_owned()))
    }

    /// The password itself, for hashing.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl crate::error::Coded for UsernameError {
    fn code(&self) -> crate::FieldCode {
        use crate::FieldCode;
        match self {
            Self::Length => FieldCode::UsernameLength,
            Self::Character => FieldCode::UsernameCharacters,
        }
    }
}

impl crate::error::Coded for EmailError {
    fn code(&self) -> crate::FieldCode {
        use crate::FieldCode;
        match self {
            Self::TooLong => FieldCode::EmailTooLong,
            Self::Invalid => FieldCode::EmailInvalid,
        }
    }
}

impl crate::error::Coded for PasswordError {
    fn code(&self) -> crate::FieldCode {
        use crate::FieldCode;
        match self {
            Self::TooShort => FieldCode::PasswordTooShort,
            Self::TooLong => FieldCode::PasswordTooLong,
            Self::TooCommon => FieldCode::PasswordTooCommon,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usernames_compare_case_insensitively_but_keep_their_case() {
        let a = Username::parse("Alice_01").unwrap();
        let b = Username::parse("alice_01").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "Alice_01");
        assert_eq!(a.key(), "alice_01");
    }

    #[test]
    fn usernames_reject_bad_lengths_and_characters() {
        assert_eq!(Username::parse("ab"), Err(UsernameError::Length));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(UsernameError::Length));
        assert_eq!(Username::parse("al ice"), Err(UsernameError::Character));
        assert_eq!(Username::parse("alicé"), Err(UsernameError::Character));
        assert_eq!(Username::parse("a@b"), Err(UsernameError::Character));
        assert!(Username::parse("a-b").is_ok());
        assert!(Username::parse(&"z".repeat(32)).is_ok());
    }

    #[test]
    fn emails_are_lower_cased_and_need_a_dotted_domain() {
        assert_eq!(
            Email::parse("Bob@Example.COM").unwrap().as_str(),
            "bob@example.com"
        );
        assert_eq!(Email::parse("bob@localhost"), Err(EmailError::Invalid));
        assert_eq!(Email::parse("bob"), Err(EmailError::Invalid));
        assert_eq!(
            Email::parse("Bob <bob@example.com>"),
            Err(EmailError::Invalid)
        );
        assert_eq!(Email::parse("bob@[127.0.0.1]"), Err(EmailError::Invalid));
        assert_eq!(Email::parse(" bob@example.com"), Err(EmailError::Invalid));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn passwords_enforce_length_and_reject_common_ones() {
        assert_eq!(
            Password::parse("short").unwrap_err(),
            PasswordError::TooShort
        );
        assert_eq!(
            Password::parse(&"x".repeat(129)).unwrap_err(),
            PasswordError::TooLong
        );
        assert_eq!(
            Password::parse("Password123").unwrap_err(),
            PasswordError::TooCommon
        );
        // Length counts characters, not bytes.
        assert!(Password::parse("ééééééééé").is_err());
        assert!(Password::parse("éééééééééé").is_ok());
        assert!(Password::parse("correct horse battery").is_ok());
    }

    #[test]
    fn password_debug_hides_the_secret() {
        let p = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    proptest! {
        #[test]
        fn any_valid_username_round_trips(s in "[A-Za-z0-9_-]{3,32}") {
            let u = Username::parse(&s).unwrap();
            prop_assert_eq!(u.as_str(), s.as_str());
            prop_assert_eq!(Username::parse(&s.to_uppercase()).unwrap(), u);
        }

        #[test]
        fn username_parser_never_panics(s in ".*") {
            let _ = Username::parse(&s);
        }

        #[test]
        fn email_parser_never_panics_and_lowercases(s in ".{0,300}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(e.as_str(), s.to_lowercase());
            }
        }

        #[test]
        fn simple_emails_parse(local in "[a-z0-9]{1,20}", domain in "[a-z]{1,20}\\.[a-z]{2,6}") {
            let input = format!("{local}@{domain}");
            let email = Email::parse(&input).unwrap();
            prop_assert_eq!(email.as_str(), input.as_str());
        }

        #[test]
        fn password_length_rule_counts_characters(s in "\\PC{0,140}") {
            let n = s.chars().count();
            let ok = Password::parse(&s).is_ok();
            if !(10..=128).contains(&n) {
                prop_assert!(!ok);
            }
        }
    }
}
