//! Rooms: short shareable codes typed without ambiguity, names, descriptions and statuses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A room's short code: [`RoomCode::LEN`] characters from an alphabet without look-alikes
/// (no `0`/`O`, `1`/`I`/`L`). Parsing is case-insensitive; the canonical form is upper-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoomCode(String);

/// Why a string is not a [`RoomCode`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 6 characters from A–Z and 2–9, without 0, O, 1, I or L")]
pub struct RoomCodeError;

impl RoomCode {
    /// The alphabet: digits 2–9 and upper-case letters without I, L and O.
    pub const ALPHABET: &'static [u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    /// Number of characters in a code.
    pub const LEN: usize = 6;

    /// Parses a code typed or pasted by a person.
    ///
    /// # Errors
    /// [`RoomCodeError`] when the length or a character is wrong.
    pub fn parse(input: &str) -> Result<Self, RoomCodeError> {
        let code = input.trim().to_ascii_uppercase();
        if code.len() == Self::LEN && code.bytes().all(|b| Self::ALPHABET.contains(&b)) {
            Ok(Self(code))
        } else {
            Err(RoomCodeError)
        }
    }

    /// Derives a code from random bits (the caller supplies them, so this crate needs no RNG).
    #[must_use]
    pub fn from_random(mut bits: u64) -> Self {
        let base = Self::ALPHABET.len() as u64;
        let code = (0..Self::LEN)
            .map(|_| {
                let c = Self::ALPHABET[(bits % base) as usize];
                bits /= base;
                char::from(c)
            })
            .collect();
        Self(code)
    }

    /// The canonical code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A room's name: 1–[`RoomName::MAX_CHARS`] characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomName(String);

/// Why a string is not a [`RoomName`] or [`RoomDescription`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoomTextError {
    /// Nothing but white space.
    #[error("is required")]
    Empty,
    /// More characters than allowed.
    #[error("must be at most {0} characters long")]
    TooLong(usize),
    /// A control character (other than line breaks and tabs in descriptions).
    #[error("must not contain control characters")]
    Control,
}

impl RoomName {
    /// The most characters a name may have.
    pub const MAX_CHARS: usize = 80;

    /// Parses a name, trimming surrounding white space.
    ///
    /// # Errors
    /// [`RoomTextError`] for an empty or too long name or a control character.
    pub fn parse(input: &str) -> Result<Self, RoomTextError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(RoomTextError::Empty);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(RoomTextError::TooLong(Self::MAX_CHARS));
        }
        if name.chars().any(char::is_control) {
            return Err(RoomTextError::Control);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room's description: at most [`RoomDescription::MAX_CHARS`] characters after trimming; may
/// be empty; line breaks and tabs allowed, other control characters not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomDescription(String);

impl RoomDescription {
    /// The most characters a description may have.
    pub const MAX_CHARS: usize = 2000;

    /// Parses a description, trimming surrounding white space.
    ///
    /// # Errors
    /// [`RoomTextError::TooLong`] or [`RoomTextError::Control`].
    pub fn parse(input: &str) -> Result<Self, RoomTextError> {
        plain_text(input, Self::MAX_CHARS).map(Self)
    }

    /// The description.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A multi-line plain text: trimmed, at most `max` characters, line breaks and tabs allowed,
/// other control characters not.
///
/// # Errors
/// [`RoomTextError::TooLong`] or [`RoomTextError::Control`].
pub fn plain_text(input: &str, max: usize) -> Result<String, RoomTextError> {
    let text = input.trim();
    if text.chars().count() > max {
        return Err(RoomTextError::TooLong(max));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(RoomTextError::Control);
    }
    Ok(text.to_owned())
}

/// How many units of a room can be sold in all: 1 to [`StockLimit::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StockLimit(u32);

/// Why a number is not a [`StockLimit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from 1 to 1000000")]
pub struct StockLimitError;

impl StockLimit {
    /// The largest limit.
    pub const MAX: u32 = 1_000_000;

    /// Checks a limit.
    ///
    /// # Errors
    /// [`StockLimitError`] for 0 or more than [`StockLimit::MAX`].
    pub fn new(units: u32) -> Result<Self, StockLimitError> {
        if (1..=Self::MAX).contains(&units) {
            Ok(Self(units))
        } else {
            Err(StockLimitError)
        }
    }

    /// Parses a limit a person typed; nothing typed means no limit.
    ///
    /// # Errors
    /// [`StockLimitError`] for anything but a whole number in range.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, StockLimitError> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(None);
        }
        input
            .parse::<u32>()
            .map_err(|_| StockLimitError)
            .and_then(Self::new)
            .map(Some)
    }

    /// The number of units.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

impl crate::error::Coded for StockLimitError {
    fn code(&self) -> crate::FieldCode {
        crate::FieldCode::StockLimitRange
    }
}

/// Whether a room can be paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoomStatus {
    /// Buyers can pay.
    Open,
    /// Temporarily not accepting payments; the seller can reopen it.
    Paused,
    /// Permanently closed.
    Closed,
}

impl RoomStatus {
    /// The wire and database name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paused => "paused",
            Self::Closed => "closed",
        }
    }

    /// Whether a seller may move the room from `self` to `next` (closing is final).
    #[must_use]
    pub fn can_change_to(self, next: Self) -> bool {
        self != Self::Closed || next == Self::Closed
    }
}

impl fmt::Display for RoomStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown room status name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown room status {0:?}")]
pub struct UnknownRoomStatus(pub String);

impl FromStr for RoomStatus {
    type Err = UnknownRoomStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Self::Open),
            "paused" => Ok(Self::Paused),
            "closed" => Ok(Self::Closed),
            _ => Err(UnknownRoomStatus(s.to_owned())),
        }
    }
}

impl crate::error::Coded for RoomCodeError {
    fn code(&self) -> crate::FieldCode {
        crate::FieldCode::RoomCodeInvalid
    }
}

impl crate::error::Coded for RoomTextError {
    fn code(&self) -> crate::FieldCode {
        use crate::FieldCode;
        match self {
            Self::Empty => FieldCode::Required,
            Self::TooLong(_) => FieldCode::TooLong,
            Self::Control => FieldCode::ControlCharacters,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_limits_are_whole_numbers_in_range_or_nothing() {
        assert_eq!(StockLimit::parse_optional("  "), Ok(None));
        assert_eq!(
            StockLimit::parse_optional(" 3 ").map(|l| l.map(StockLimit::get)),
            Ok(Some(3))
        );
        assert_eq!(
            StockLimit::parse_optional("1000000").map(|l| l.map(StockLimit::get)),
            Ok(Some(StockLimit::MAX))
        );
        for bad in ["0", "-1", "2.5", "1000001", "three", "99999999999"] {
            assert_eq!(
                StockLimit::parse_optional(bad),
                Err(StockLimitError),
                "{bad}"
            );
        }
    }
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            RoomName::parse("  Guitar lessons ").unwrap().as_str(),
            "Guitar lessons"
        );
        assert_eq!(RoomName::parse("   "), Err(RoomTextError::Empty));
        assert_eq!(
            RoomName::parse(&"é".repeat(80))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            80
        );
        assert_eq!(
            RoomName::parse(&"é".repeat(81)),
            Err(RoomTextError::TooLong(80))
        );
        assert_eq!(RoomName::parse("a\nb"), Err(RoomTextError::Control));
    }

    #[test]
    fn descriptions_may_be_empty_and_span_lines() {
        assert_eq!(RoomDescription::parse("  ").unwrap().as_str(), "");
        assert!(RoomDescription::parse("line one\nline two\ttab").is_ok());
        assert_eq!(
            RoomDescription::parse("bell\u{7}"),
            Err(RoomTextError::Control)
        );
        assert_eq!(
            RoomDescription::parse(&"x".repeat(2001)),
            Err(RoomTextError::TooLong(2000))
        );
    }

    #[test]
    fn closing_a_room_is_final() {
        assert!(RoomStatus::Open.can_change_to(RoomStatus::Paused));
        assert!(RoomStatus::Paused.can_change_to(RoomStatus::Open));
        assert!(RoomStatus::Paused.can_change_to(RoomStatus::Closed));
        assert!(!RoomStatus::Closed.can_change_to(RoomStatus::Open));
        assert!(!RoomStatus::Closed.can_change_to(RoomStatus::Paused));
        for status in [RoomStatus::Open, RoomStatus::Paused, RoomStatus::Closed] {
            assert_eq!(status.as_str().parse::<RoomStatus>().unwrap(), status);
        }
    }

    #[test]
    fn codes_parse_case_insensitively_and_reject_look_alikes() {
        assert_eq!(RoomCode::parse("ab3d7k").unwrap().as_str(), "AB3D7K");
        assert!(RoomCode::parse("AB0D7K").is_err());
        assert!(RoomCode::parse("ABOD7K").is_err());
        assert!(RoomCode::parse("AB1D7K").is_err());
        assert!(RoomCode::parse("ABID7K").is_err());
        assert!(RoomCode::parse("ABLD7K").is_err());
        assert!(RoomCode::parse("AB3D7").is_err());
        assert!(RoomCode::parse("AB3D7KK").is_err());
    }

    proptest! {
        #[test]
        fn generated_codes_always_parse(bits in any::<u64>()) {
            let code = RoomCode::from_random(bits);
            prop_assert_eq!(RoomCode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,12}") {
            let _ = RoomCode::parse(&s);
        }

        #[test]
        fn parsed_names_are_trimmed_and_within_bounds(s in "\\PC{0,100}") {
            if let Ok(name) = RoomName::parse(&s) {
                prop_assert_eq!(name.as_str(), name.as_str().trim());
                prop_assert!(!name.as_str().is_empty());
                prop_assert!(name.as_str().chars().count() <= RoomName::MAX_CHARS);
            }
        }
    }
}
