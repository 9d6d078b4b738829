//! What the logs look like and what they hold.

use serde::Deserialize;

use super::Problems;

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Coloured, human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// The logging settings as read.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Raw {
    /// `SHIFTING_LOG_FORMAT`: `human` or `json`.
    pub log_format: LogFormat,
    /// `SHIFTING_LOG_FILTER`: tracing filter directives (`RUST_LOG` wins when set).
    pub log_filter: String,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Human,
            log_filter: "info,sqlx=warn,sea_orm=warn".into(),
        }
    }
}

/// The validated logging settings.
#[derive(Clone, Debug)]
pub struct LoggingSettings {
    /// Log format.
    pub format: LogFormat,
    /// Log filter directives.
    pub filter: String,
}

impl Raw {
    pub(super) fn validate(self, problems: &mut Problems) -> LoggingSettings {
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&self.log_filter) {
            problems.push(format!("log_filter is not a valid filter: {err}"));
        }
        LoggingSettings {
            format: self.log_format,
            filter: self.log_filter,
        }
    }
}
