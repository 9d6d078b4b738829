//! Time arithmetic shared by every module that computes deadlines.

/// A `std` duration as a `chrono` one, saturating: settings are range-checked, so the cap is
/// never reached in practice, and a deadline is never computed by a panicking conversion.
#[must_use]
pub fn chrono_duration(duration: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}
