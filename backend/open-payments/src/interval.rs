//! ISO 8601 repeating intervals (`limits.interval` of an outgoing-payment grant) as Rafiki
//! reads them (`packages/backend/src/open_payments/payment/outgoing/limits.ts`), so that the
//! sandbox enforces them and the platform states a budget's schedule the same way:
//!
//! - three `/`-separated parts: `R{n}/{start}/{duration}`, `R{n}/{duration}/{end}` (repeating
//!   backwards from the end) or `R{n}/{start}/{end}` (the first interval's length, as a fixed
//!   span, repeats); `R` and `R-1` repeat without end;
//! - `R{n}` is the first interval **plus n repetitions** (`R2/2022-07-01T13:00:00Z/P1M` covers
//!   July, August and September);
//! - each repetition follows the previous one (months clamp at the month's end and the clamp
//!   carries on: Jan 31, Feb 28, Mar 28 …);
//! - intervals are half-open: a start belongs to its interval, an end to the next.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, Months, TimeDelta, Utc};

/// How far [`RepeatingInterval::containing`] walks an unbounded interval before giving up.
const MAX_STEPS: u32 = 100_000;

/// A calendar duration: `P1Y2M10DT2H30M`, `P1W`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    /// Years.
    pub years: u32,
    /// Months.
    pub months: u32,
    /// Weeks.
    pub weeks: u32,
    /// Days.
    pub days: u32,
    /// Hours.
    pub hours: u32,
    /// Minutes.
    pub minutes: u32,
    /// Seconds.
    pub seconds: u32,
}

impl Period {
    fn is_zero(self) -> bool {
        self == Self::default()
    }

    /// `at` moved forward by this period (calendar parts first, then days, then time).
    fn after(self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let months = self.years.checked_mul(12)?.checked_add(self.months)?;
        let days = u64::from(self.weeks) * 7 + u64::from(self.days);
        at.checked_add_months(Months::new(months))?
            .checked_add_days(Days::new(days))?
            .checked_add_signed(self.time())
    }

    /// `at` moved back by this period.
    fn before(self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let months = self.years.checked_mul(12)?.checked_add(self.months)?;
        let days = u64::from(self.weeks) * 7 + u64::from(self.days);
        at.checked_sub_months(Months::new(months))?
            .checked_sub_days(Days::new(days))?
            .checked_sub_signed(self.time())
    }

    fn time(self) -> TimeDelta {
        TimeDelta::hours(i64::from(self.hours))
            + TimeDelta::minutes(i64::from(self.minutes))
            + TimeDelta::seconds(i64::from(self.seconds))
    }
}

impl FromStr for Period {
    type Err = IntervalError;

    fn from_str(text: &str) -> Result<Self, IntervalError> {
        let rest = text.strip_prefix('P').ok_or(IntervalError)?;
        let (date, time) = match rest.split_once('T') {
            Some((date, time)) if !time.is_empty() => (date, Some(time)),
            Some(_) => return Err(IntervalError),
            None => (rest, None),
        };
        let mut period = Self::default();
        for (value, unit) in parts(date)? {
            let slot = match unit {
                'Y' => &mut period.years,
                'M' => &mut period.months,
                'W' => &mut period.weeks,
                'D' => &mut period.days,
                _ => return Err(IntervalError),
            };
            *slot = value;
        }
        for (value, unit) in time.map(parts).transpose()?.unwrap_or_default() {
            let slot = match unit {
                'H' => &mut period.hours,
                'M' => &mut period.minutes,
                'S' => &mut period.seconds,
                _ => return Err(IntervalError),
            };
            *slot = value;
        }
        if period.is_zero() && date.is_empty() && time.is_none() {
            return Err(IntervalError);
        }
        Ok(period)
    }
}

/// `12D3W` → `[(12, 'D'), (3, 'W')]`.
fn parts(text: &str) -> Result<Vec<(u32, char)>, IntervalError> {
    let mut out = Vec::new();
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            let value = digits.parse().map_err(|_| IntervalError)?;
            out.push((value, c));
            digits.clear();
        }
    }
    if digits.is_empty() {
        Ok(out)
    } else {
        Err(IntervalError)
    }
}

/// How the intervals follow one another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// From a start, forward by a period.
    Forward(DateTime<Utc>, Period),
    /// Up to an end, backward by a period.
    Backward(Period, DateTime<Utc>),
    /// From a start, forward by the fixed span of the first interval.
    Span(DateTime<Utc>, TimeDelta),
}

/// A repeating interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepeatingInterval {
    text: String,
    /// Repetitions after the first interval; `None`: without end.
    repetitions: Option<u32>,
    shape: Shape,
}

/// Not a repeating interval Rafiki would use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO 8601 repeating interval (R{{n}}/{{start}}/{{duration}})")]
pub struct IntervalError;

impl FromStr for RepeatingInterval {
    type Err = IntervalError;

    fn from_str(text: &str) -> Result<Self, IntervalError> {
        let [repeat, first, second] = <[&str; 3]>::try_from(text.split('/').collect::<Vec<_>>())
            .map_err(|_| IntervalError)?;
        let repetitions = match repeat {
            "R" | "R-1" => None,
            _ => Some(
                repeat
                    .strip_prefix('R')
                    .and_then(|n| n.parse::<u32>().ok())
                    .ok_or(IntervalError)?,
            ),
        };
        let date = |part: &str| {
            DateTime::parse_from_rfc3339(part)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| IntervalError)
        };
        let shape = match (first.starts_with('P'), second.starts_with('P')) {
            (false, true) => Shape::Forward(date(first)?, second.parse()?),
            (true, false) => Shape::Backward(first.parse()?, date(second)?),
            (false, false) => {
                let (start, end) = (date(first)?, date(second)?);
                if end <= start {
                    return Err(IntervalError);
                }
                Shape::Span(start, end - start)
            }
            (true, true) => return Err(IntervalError),
        };
        let interval = Self {
            text: text.to_owned(),
            repetitions,
            shape,
        };
        interval.nth(0).ok_or(IntervalError)?;
        Ok(interval)
    }
}

impl fmt::Display for RepeatingInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl RepeatingInterval {
    /// `R{repetitions}/{start}/{period}`: the first interval from `start`, then `repetitions`
    /// more.
    #[must_use]
    pub fn forward(start: DateTime<Utc>, period: &str, repetitions: u32) -> Option<Self> {
        format!(
            "R{repetitions}/{}/{period}",
            start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
        .parse()
        .ok()
    }

    /// The `k`-th interval (0 is the first), whether or not the repetitions reach it.
    fn nth(&self, k: u32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        match self.shape {
            Shape::Forward(start, period) => {
                let mut from = start;
                let mut to = period.after(from)?;
                for _ in 0..k {
                    from = to;
                    to = period.after(from)?;
                }
                (to > from).then_some((from, to))
            }
            Shape::Backward(period, end) => {
                let mut to = end;
                let mut from = period.before(to)?;
                for _ in 0..k {
                    to = from;
                    from = period.before(to)?;
                }
                (to > from).then_some((from, to))
            }
            Shape::Span(start, span) => {
                let from = start.checked_add_signed(span.checked_mul(i32::try_from(k).ok()?)?)?;
                Some((from, from.checked_add_signed(span)?))
            }
        }
    }

    /// How many intervals there are (`None`: without end).
    #[must_use]
    pub fn count(&self) -> Option<u32> {
        self.repetitions.map(|n| n.saturating_add(1))
    }

    /// The interval `at` falls in (`[start, end)`), if any.
    #[must_use]
    pub fn containing(&self, at: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let count = self.count().map_or(MAX_STEPS, |n| n.min(MAX_STEPS));
        // Each interval follows the previous one (month clamps carry), so they are walked.
        match self.shape {
            Shape::Forward(start, period) => {
                let mut from = start;
                for _ in 0..count {
                    let to = period.after(from)?;
                    if at < from {
                        return None;
                    }
                    if at < to {
                        return Some((from, to));
                    }
                    from = to;
                }
                None
            }
            Shape::Backward(period, end) => {
                let mut to = end;
                for _ in 0..count {
                    let from = period.before(to)?;
                    if at >= to {
                        return None;
                    }
                    if at >= from {
                        return Some((from, to));
                    }
                    to = from;
                }
                None
            }
            Shape::Span(start, span) => {
                if at < start {
                    return None;
                }
                let k = (at - start).num_milliseconds() / span.num_milliseconds().max(1);
                let k = u32::try_from(k).ok()?;
                if self.count().is_some_and(|n| k >= n) {
                    return None;
                }
                self.nth(k)
            }
        }
    }

    /// Where the last interval ends (for a backward interval: where the earliest begins);
    /// `None` without end.
    #[must_use]
    pub fn last_end(&self) -> Option<DateTime<Utc>> {
        let n = self.repetitions?;
        match self.shape {
            Shape::Backward(..) => self.nth(n).map(|(from, _)| from),
            _ => self.nth(n).map(|(_, to)| to),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn rn_is_the_first_interval_and_n_repetitions_as_rafiki_counts() {
        let interval: RepeatingInterval = "R2/2022-07-01T13:00:00Z/P1M".parse().unwrap();
        assert_eq!(interval.count(), Some(3));
        assert_eq!(interval.containing(at("2022-06-30T13:00:00Z")), None);
        assert_eq!(
            interval.containing(at("2022-07-01T13:00:00Z")),
            Some((at("2022-07-01T13:00:00Z"), at("2022-08-01T13:00:00Z")))
        );
        assert_eq!(
            interval.containing(at("2022-09-30T23:59:59Z")),
            Some((at("2022-09-01T13:00:00Z"), at("2022-10-01T13:00:00Z")))
        );
        assert_eq!(interval.containing(at("2022-10-01T13:00:00Z")), None);
        assert_eq!(interval.last_end(), Some(at("2022-10-01T13:00:00Z")));

        // The same three months, counted back from the end.
        let backward: RepeatingInterval = "R2/P1M/2022-10-01T13:00:00Z".parse().unwrap();
        assert_eq!(
            backward.containing(at("2022-07-15T00:00:00Z")),
            Some((at("2022-07-01T13:00:00Z"), at("2022-08-01T13:00:00Z")))
        );
        assert_eq!(backward.containing(at("2022-06-30T00:00:00Z")), None);
        assert_eq!(backward.containing(at("2022-10-01T13:00:00Z")), None);
    }

    #[test]
    fn repetitions_follow_each_other_with_month_clamps_and_fixed_spans() {
        let interval: RepeatingInterval = "R3/2023-01-31T00:00:00Z/P1M".parse().unwrap();
        assert_eq!(
            interval.containing(at("2023-03-01T00:00:00Z")),
            Some((at("2023-02-28T00:00:00Z"), at("2023-03-28T00:00:00Z")))
        );
        let span: RepeatingInterval = "R1/2022-07-01T00:00:00Z/2022-08-01T00:00:00Z"
            .parse()
            .unwrap();
        // 31 days, then 31 days again.
        assert_eq!(
            span.containing(at("2022-08-20T00:00:00Z")),
            Some((at("2022-08-01T00:00:00Z"), at("2022-09-01T00:00:00Z")))
        );
        assert_eq!(span.containing(at("2022-09-01T00:00:00Z")), None);
    }

    #[test]
    fn unbounded_intervals_and_every_duration_unit() {
        for text in ["R/2024-01-01T00:00:00Z/P1W", "R-1/2024-01-01T00:00:00Z/P7D"] {
            let weekly: RepeatingInterval = text.parse().unwrap();
            assert_eq!(weekly.count(), None);
            assert_eq!(weekly.last_end(), None);
            assert_eq!(
                weekly.containing(at("2024-03-05T12:00:00Z")),
                Some((at("2024-03-04T00:00:00Z"), at("2024-03-11T00:00:00Z"))),
                "{text}"
            );
        }
        let period: Period = "P1Y2M10DT2H30M5S".parse().unwrap();
        assert_eq!(
            period,
            Period {
                years: 1,
                months: 2,
                weeks: 0,
                days: 10,
                hours: 2,
                minutes: 30,
                seconds: 5
            }
        );
        let built = RepeatingInterval::forward(at("2026-12-04T16:00:00.250Z"), "P1M", 5).unwrap();
        assert_eq!(built.to_string(), "R5/2026-12-04T16:00:00Z/P1M");
        assert_eq!(built.count(), Some(6));
    }

    #[test]
    fn what_rafiki_cannot_use_is_refused() {
        for bad in [
            "",
            "P1M",
            "R2/2022-07-01T13:00:00Z",
            "R2/2022-07-01T13:00:00Z/P1M/x",
            "Rx/2022-07-01T13:00:00Z/P1M",
            "R-2/2022-07-01T13:00:00Z/P1M",
            "R2/P1M/P1M",
            "R2/2022-07-01T13:00:00Z/P",
            "R2/2022-07-01T13:00:00Z/PT",
            "R2/2022-07-01T13:00:00Z/P1X",
            "R2/2022-07-01T13:00:00Z/P0D",
            "R2/2022-08-01T00:00:00Z/2022-07-01T00:00:00Z",
            "R2/not a date/P1M",
        ] {
            assert_eq!(
                bad.parse::<RepeatingInterval>(),
                Err(IntervalError),
                "{bad:?}"
            );
        }
    }
}
