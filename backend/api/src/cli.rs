//! The command line: `shifting serve | sandbox | migrate | admin | openapi | keygen`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{ConfigError, Settings};

/// Shifting: a peer-to-peer marketplace paid through Open Payments.
///
/// Configuration is layered: built-in defaults, then the optional TOML file given by --config,
/// then SHIFTING_* environment variables, then command-line flags.
#[derive(Debug, Parser)]
#[command(name = "shifting", version, about, long_about)]
pub struct Cli {
    /// TOML configuration file (keys as in the README's configuration table, lower-case).
    #[arg(long, global = true, env = "SHIFTING_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the API and the web app until SIGTERM or Ctrl-C.
    Serve(ServeArgs),
    /// Serve only the sandbox Open Payments network (wallet addresses, consent page, balances)
    /// under /sandbox, until SIGTERM or Ctrl-C: for several API replicas or third-party clients
    /// to share. Its state lives in the data directory, like the embedded one.
    Sandbox(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DataArgs),
    /// Make an account an admin, or take the role away, from the server itself (the first
    /// admin is made this way; afterwards admins can do it in the panel). Migrates the database
    /// first; the change is written to the audit log as done by the command line.
    Admin(AdminArgs),
    /// Print the OpenAPI 3.1 document of the API to standard output.
    Openapi,
    /// Generate an Ed25519 key pair for the platform's Open Payments identity: prints the
    /// private key (PKCS#8 PEM, keep it secret) and the public JWK to register with the wallet
    /// provider.
    Keygen(KeygenArgs),
}

/// Options of `admin`.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub action: AdminAction,
}

/// What `admin` does.
#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Make USERNAME an admin.
    Grant(RoleArgs),
    /// Take the admin role from USERNAME (never from the last active admin).
    Revoke(RoleArgs),
}

/// Whose role changes, and why.
#[derive(Debug, clap::Args)]
pub struct RoleArgs {
    /// The account's username (any case).
    pub username: String,
    /// Why, for the audit log.
    #[arg(long, default_value = "Changed from the server's command line.")]
    pub reason: String,

    #[command(flatten)]
    pub data: DataArgs,
}

/// Options of `keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Key id (`kid`) for the new key [default: a random UUID].
    #[arg(long, value_name = "ID")]
    pub kid: Option<String>,
}

/// Options of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "SHIFTING_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,

    #[command(flatten)]
    pub data: DataArgs,
}

/// Options shared by commands that use the data directory.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Directory for the SQLite database and the generated JWT secret [default: ./data].
    #[arg(long, env = "SHIFTING_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Runs a parsed command line and returns the process exit code.
#[must_use]
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Openapi => print_openapi(),
        Command::Keygen(args) => print_new_key(args.kid),
        Command::Serve(args) => {
            let settings = match load(cli.config, args.addr, args.data.data_dir) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            crate::telemetry::init(&settings);
            block_on(serve(settings))
        }
        Command::Sandbox(args) => {
            let settings = match load(cli.config, args.addr, args.data.data_dir) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            crate::telemetry::init(&settings);
            block_on(sandbox(settings))
        }
        Command::Admin(args) => {
            let data_dir = match &args.action {
                AdminAction::Grant(role) | AdminAction::Revoke(role) => role.data.data_dir.clone(),
            };
            let settings = match load(cli.config, None, data_dir) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            crate::telemetry::init(&settings);
            block_on(change_role(settings, args.action))
        }
        Command::Migrate(args) => {
            let settings = match load(cli.config, None, args.data_dir) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            crate::telemetry::init(&settings);
            block_on(migrate(settings))
        }
    }
}

fn load(
    config: Option<PathBuf>,
    addr: Option<String>,
    data_dir: Option<PathBuf>,
) -> Result<Settings, ExitCode> {
    Settings::load(config.as_deref(), addr, data_dir).map_err(|err| {
        let ConfigError(problems) = err;
        eprintln!("shifting: the configuration is invalid:");
        for problem in problems {
            eprintln!("  - {problem}");
        }
        ExitCode::from(2)
    })
}

fn block_on(future: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("shifting: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(future) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "shifting stopped with an error");
            eprintln!("shifting: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    raise_open_file_limit(settings.server.max_connections);
    let app = crate::App::build(settings).await?;
    tracing::info!(url = %app.public_url(), "Shifting is listening");
    eprintln!(
        "\n  Shifting is running at {}  (Ctrl-C to stop)\n",
        app.public_url()
    );
    app.run_until(crate::app::shutdown_signal()).await
}

async fn sandbox(settings: Settings) -> anyhow::Result<()> {
    raise_open_file_limit(settings.server.max_connections);
    let server = crate::app::SandboxServer::build(settings).await?;
    eprintln!(
        "\n  The Shifting sandbox is running at {}  (accounts: {}/accounts; Ctrl-C to stop)\n",
        server.base_url(),
        server.base_url()
    );
    server.run_until(crate::app::shutdown_signal()).await
}

/// Open files the process needs besides client connections: the database pool, outbound
/// connections to wallet providers, logs.
const RESERVED_FILES: u64 = 256;

/// Raises the soft limit on open files to the hard limit (the soft default is often 1024),
/// and warns when it still cannot hold `max_connections` client connections (plus those being
/// answered `503`).
fn raise_open_file_limit(max_connections: usize) {
    let wanted = u64::try_from(max_connections.saturating_add(crate::server::MAX_REJECTING))
        .unwrap_or(u64::MAX)
        .saturating_add(RESERVED_FILES);
    match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) if limit < wanted => tracing::warn!(
            open_files = limit,
            max_connections,
            "the open-file limit is below SHIFTING_MAX_CONNECTIONS; connections beyond it fail \
             to be accepted (raise `ulimit -n` or lower the setting)"
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "cannot read or raise the open-file limit"),
    }
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let db = crate::db::connect(&settings).await?;
    let applied = crate::db::migrate(&db).await?;
    tracing::info!(applied, "database is up to date");
    Ok(())
}

async fn change_role(settings: Settings, action: AdminAction) -> anyhow::Result<()> {
    use shifting_shared::admin::Role;

    let (role, args) = match action {
        AdminAction::Grant(args) => (Role::Admin, args),
        AdminAction::Revoke(args) => (Role::User, args),
    };
    let reason = crate::services::admin::reason(&args.reason)
        .map_err(|err| anyhow::anyhow!("the reason is invalid: {err}"))?;
    let db = crate::db::connect(&settings).await?;
    crate::db::migrate(&db).await?;
    let actor = crate::services::admin::Actor::command_line();
    let who = crate::services::admin::UserRef::Name(&args.username);
    let now = settings.clock.now();
    let user = crate::services::admin::set_role(&db, &actor, who, (role, &reason), now)
        .await
        .map_err(|err| match err {
            crate::error::ApiError::Internal(source) => source.context(args.username.clone()),
            other => anyhow::anyhow!("{}: {other}", args.username),
        })?;
    let mut out = std::io::stdout().lock();
    match role {
        Role::Admin => writeln!(out, "{} is now an admin.", user.username)?,
        Role::User => writeln!(out, "{} is no longer an admin.", user.username)?,
    }
    Ok(())
}

fn print_openapi() -> ExitCode {
    let written = crate::http::openapi::spec_json()
        .context("cannot serialise the OpenAPI document")
        .and_then(|json| {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}").context("cannot write to standard output")
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("shifting: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_new_key(kid: Option<String>) -> ExitCode {
    let kid = kid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let printed = shifting_open_payments::SigningKey::generate(&kid)
        .context("cannot generate the key")
        .and_then(|(key, pem)| {
            let jwk = serde_json::to_string(&key.public_jwk()).context("cannot encode the JWK")?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "# Private key (PKCS#8 PEM). Keep it secret: give it to Shifting through a file\n\
                 # readable only by the server, never commit it.\n{pem}\n\
                 # Key id: {kid}\n\
                 # Public key (JWK). Register it with your wallet provider for the platform's\n\
                 # wallet address; it is what {{wallet address}}/jwks.json will publish.\n{jwk}"
            )
            .context("cannot write to standard output")
        });
    match printed {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("shifting: {err:#}");
            ExitCode::FAILURE
        }
    }
}
