//! Room codes: short, shareable, and typed without ambiguity.

use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    }
}
