//! Argon2id, run on a few threads of its own. Each run needs ~19 MiB and tens of milliseconds of
//! CPU, so a flood of sign-ins must not decide how many run at once: one thread per core takes
//! them from a short queue, and beyond it a request is refused at once (`Busy`). Each thread
//! allocates its Argon2 memory once and reuses it: allocated afresh per run (64-byte aligned),
//! it is not given back to the system, and memory would grow with every run on a new thread.

use std::{
    cell::RefCell,
    sync::{
        mpsc::{sync_channel, SyncSender, TrySendError},
        Arc, LazyLock, Mutex,
    },
};

use argon2::{
    password_hash::{self, rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};

use crate::error::AppError;

/// Runs that may wait for a hashing thread, per core. A sign-in that runs or waits here holds one
/// of the server's admission permits (`server::admission`, 16): on 2 cores, hashing can hold at
/// most 10 of them, so a flood of sign-ins is answered `Busy` and pages keep the other 6.
const QUEUE_PER_CORE: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

/// The queue the hashing threads take their jobs from.
static QUEUE: LazyLock<SyncSender<Job>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (jobs, queue) = sync_channel::<Job>(cores * QUEUE_PER_CORE);
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..cores {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || loop {
                // The lock is held while waiting for the next job, never while hashing.
                let job = queue.lock().map(|queue| queue.recv());
                match job {
                    Ok(Ok(job)) => job(),
                    _ => return,
                }
            })
            .expect("a hashing thread starts");
    }
    jobs
});

/// Runs `work` on a hashing thread, or refuses at once when the queue is full.
pub async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    QUEUE.try_send(job).map_err(|err| match err {
        TrySendError::Full(_) => AppError::Busy,
        TrySendError::Disconnected(_) => AppError::internal("the hashing threads are gone"),
    })?;
    result.await.map_err(AppError::internal)
}

thread_local! {
    /// This thread's Argon2 memory, kept between runs.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// One Argon2 computation in this thread's memory.
fn compute(argon: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    MEMORY.with_borrow_mut(|memory| {
        // Sized once per thread (again only for a hash stored with other parameters).
        memory.resize(argon.params().block_count(), Block::default());
        argon.hash_password_into_with_memory(password, salt, out, &mut memory[..])
    })
}

/// A new Argon2id hash of `password` with a random salt, as a PHC string (the format the
/// `argon2` crate's own hasher writes, so either can verify the other's).
pub fn hash(password: &[u8]) -> password_hash::Result<String> {
    let argon = Argon2::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut buffer = [0u8; 64];
    let raw_salt = salt.as_salt().decode_b64(&mut buffer)?;
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        Ok(compute(&argon, password, raw_salt, out)?)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored` (compared in constant time).
pub fn verify(password: &[u8], stored: &str) -> password_hash::Result<bool> {
    let parsed = PasswordHash::new(stored)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(password_hash::Error::PhcStringField);
    };
    let version = match parsed.version {
        Some(version) => Version::try_from(version)?,
        None => Version::default(),
    };
    let argon = Argon2::new(
        Algorithm::try_from(parsed.algorithm)?,
        version,
        Params::try_from(&parsed)?,
    );
    let mut buffer = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut buffer)?;
    let actual = Output::init_with(expected.len(), |out| {
        Ok(compute(&argon, password, raw_salt, out)?)
    })?;
    Ok(actual == expected)
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn hashes_are_the_argon2_crates_own_both_ways() {
        let ours = hash(b"correct horse battery staple").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery staple", &parsed)
            .is_ok());
        // A hash written before (by the crate's hasher) still verifies, and only its password.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"an older passphrase", &salt)
            .unwrap()
            .to_string();
        assert_eq!(verify(b"an older passphrase", &theirs), Ok(true));
        assert_eq!(verify(b"an older passphrase!", &theirs), Ok(false));
        assert_eq!(verify(b"correct horse battery staple", &ours), Ok(true));
        assert!(verify(b"x", "not a phc string").is_err());
    }
}
