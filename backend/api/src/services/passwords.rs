//! Argon2id password hashing, off the async runtime, with a dummy verification for unknown users
//! so that "no such user" and "wrong password" take the same time.
//!
//! Each hash takes 19 MiB and tens of milliseconds of a core. They run on their own threads,
//! [`hash_slots`] of them (one fewer than the cores, at least one), and a request waits for a
//! free one before its hash is queued, so a request that gives up while waiting costs nothing.
//! Unbounded on the blocking pool, 32 log-ins at once took 32 threads and over 3 GiB of memory
//! (each thread's allocator arena kept its 19 MiB), and starved the async runtime of CPU (a room
//! view's p99 went to 80 ms; `docs/benchmarks.md`).

use std::sync::LazyLock;

use anyhow::Context;
use std::cell::RefCell;

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use shifting_shared::Password;
use tokio::sync::{Semaphore, oneshot};

/// OWASP's recommended Argon2id parameters: 19 MiB, 2 iterations, 1 lane.
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// How many hashes may run at once: one core is always left to the async runtime.
#[must_use]
pub fn hash_slots() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .saturating_sub(1)
        .max(1)
}

static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(hash_slots()));

/// The hashing threads; a panic in a hash is reported to its caller (its reply is dropped).
static THREADS: LazyLock<Result<rayon::ThreadPool, String>> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .num_threads(hash_slots())
        .thread_name(|i| format!("argon2-{i}"))
        .panic_handler(|_| tracing::error!("a password hash panicked"))
        .build()
        .map_err(|e| e.to_string())
});

/// Runs an argon2 computation on a hashing thread once one is free.
async fn in_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let threads = THREADS
        .as_ref()
        .map_err(|e| anyhow::anyhow!("cannot start the password hashing threads: {e}"))?;
    run_limited(threads, &SLOTS, work).await
}

/// Runs `work` on `threads` once `slots` has a free slot. The slot goes with the work, not
/// with the caller: a caller that gives up (a client that disconnects) frees nothing while its
/// hash still runs, so cancelled log-ins cannot pile work up behind the limit.
async fn run_limited<T: Send + 'static>(
    threads: &rayon::ThreadPool,
    slots: &'static Semaphore,
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let slot = slots
        .acquire()
        .await
        .context("the password hashing slots are closed")?;
    let (reply, answer) = oneshot::channel();
    threads.spawn(move || {
        let done = work();
        // The slot is free before the caller hears back, so a caller that goes straight on to
        // the next hash finds it free.
        drop(slot);
        let _ = reply.send(done);
    });
    answer.await.context("password hashing task failed")
}

thread_local! {
    /// This hashing thread's argon2 memory (19 MiB), allocated by its first hash and reused by
    /// every later one: freeing and allocating it per hash left the allocator holding several
    /// copies per thread (over 120 MiB after a burst of log-ins).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 of `password` and `salt` into `out`, in this thread's reused memory.
fn compute(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> anyhow::Result<()> {
    MEMORY.with_borrow_mut(|memory| {
        let blocks = params.block_count();
        if memory.len() != blocks {
            // A stored hash names its own memory size: a corrupt one must fail, not abort.
            let mut fresh = Vec::new();
            fresh
                .try_reserve_exact(blocks)
                .map_err(|_| anyhow::anyhow!("cannot allocate {blocks} KiB for argon2"))?;
            fresh.resize(blocks, Block::new());
            *memory = fresh;
        }
        argon
            .hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
            .map_err(|e| anyhow::anyhow!("argon2 failed: {e}"))
    })
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
fn hash_here(password: &[u8]) -> anyhow::Result<String> {
    let params = Params::DEFAULT;
    let salt: [u8; 16] = rand::random();
    let mut out = [0_u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&hasher(), &params, password, &salt, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("{e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc`, with the parameters `phc` names; the
/// comparison is in constant time.
fn verify_here(password: &[u8], phc: &str) -> anyhow::Result<bool> {
    let invalid = |e: &dyn std::fmt::Display| anyhow::anyhow!("stored hash is invalid: {e}");
    let parsed = PasswordHash::new(phc).map_err(|e| invalid(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| invalid(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| invalid(&e))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| invalid(&e))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(invalid(&"no salt or no hash"));
    };
    let mut out = vec![0_u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    compute(&argon, &params, password, salt, &mut out)?;
    Ok(Output::new(&out).map_err(|e| invalid(&e))? == *expected)
}

/// A real hash of a random password, verified against when the user does not exist.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let random: [u8; 16] = rand::random();
    hash_here(&random).ok()
});

/// Computes the dummy hash now, so the first log-in with an unknown name is not slower than the
/// others (which would tell that the account does not exist).
pub async fn warm_up() {
    let _ = in_slot(|| LazyLock::force(&DUMMY_HASH).is_some()).await;
}

/// Hashes a new password into a PHC string.
///
/// # Errors
/// When the hashing threads are gone or hashing fails.
pub async fn hash(password: Password) -> anyhow::Result<String> {
    in_slot(move || hash_here(password.expose().as_bytes())).await?
}

/// Verifies `candidate` against `stored`, or against a dummy hash when `stored` is `None`
/// (then the answer is always `false`, after the same amount of work).
///
/// # Errors
/// When the hashing threads are gone or the stored hash is not a valid PHC string.
pub async fn verify(candidate: String, stored: Option<String>) -> anyhow::Result<bool> {
    in_slot(move || {
        let known = stored.is_some();
        let phc = match stored {
            Some(phc) => phc,
            None => DUMMY_HASH.clone().context("cannot build the dummy hash")?,
        };
        Ok(verify_here(candidate.as_bytes(), &phc)? && known)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_slots_limit_running_hashes_even_when_callers_give_up() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        // More threads than slots: only the semaphore can keep the work to one at a time.
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let threads: &'static rayon::ThreadPool = Box::leak(Box::new(threads));
        let slots: &'static Semaphore = Box::leak(Box::new(Semaphore::new(1)));

        // A caller that gives up while its work runs does not free the slot.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let abandoned = tokio::spawn(run_limited(threads, slots, move || {
            let _ = held.recv();
        }));
        while slots.available_permits() == 1 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        let _ = abandoned.await;
        assert_eq!(
            slots.available_permits(),
            0,
            "the slot left with the caller"
        );
        release.send(()).unwrap();

        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                tokio::spawn(run_limited(threads, slots, move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert_eq!(slots.available_permits(), 1);
    }

    #[tokio::test]
    async fn hashes_verify_only_with_the_right_password() {
        let phc = hash(Password::parse("correct horse battery").unwrap())
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify("correct horse battery".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("wrong horse battery".into(), Some(phc))
                .await
                .unwrap()
        );
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }

    #[test]
    fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        use argon2::{PasswordHasher, PasswordVerifier};
        // Hashes stored before the memory reuse verify, and ours verify with the crate's API.
        let theirs = hasher()
            .hash_password(b"an older password")
            .unwrap()
            .to_string();
        assert!(verify_here(b"an older password", &theirs).unwrap());
        assert!(!verify_here(b"an older passwore", &theirs).unwrap());
        let ours = hash_here(b"a newer password").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            hasher()
                .verify_password(b"a newer password", &parsed)
                .is_ok()
        );
        assert!(
            hasher()
                .verify_password(b"a newer passwore", &parsed)
                .is_err()
        );
        // Other parameters in a stored hash are honoured (the memory is resized for them).
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        );
        let light = light.hash_password(b"tiny").unwrap().to_string();
        assert!(verify_here(b"tiny", &light).unwrap());
        assert!(verify_here(b"tiny", "$argon2id$v=19$nonsense").is_err());
    }
}
