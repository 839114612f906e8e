//! Packing of records and raw answers, the only zstd user: plain zstd, or
//! zstd with a dictionary trained per (kind, registry), and the background
//! trainer that makes those dictionaries without stalling the writer.
//!
//! A packed value is a method byte, then: the bytes as they are
//! ([`STORED`]), a zstd frame ([`ZSTD`]), or a `u32` dictionary id and a
//! zstd frame made with that dictionary ([`ZSTD_DICT`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use zstd::bulk::{Compressor, Decompressor};

use crate::rdap::Registry;

use super::codec::Reason;

/// zstd level for every packed value (3: zstd's default; level 7 saves
/// 10 % more and compresses 3× slower, see `benches/store.rs`).
pub(crate) const LEVEL: i32 = 3;
/// Payloads of one (kind, registry) collected before its dictionary is trained.
pub const TRAIN_SAMPLES: usize = 2000;
/// Payloads larger than this are not taken as samples.
const SAMPLE_MAX: usize = 64 << 10;
/// Sample bytes of one pair that start its training even before
/// [`TRAIN_SAMPLES`] (bounds the memory and the training time).
const SAMPLE_BUDGET: usize = 16 << 20;
/// Largest payload a packed value may expand to.
pub(crate) const UNPACK_CAP: usize = 64 << 20;

/// Method byte: the payload as it is.
pub(crate) const STORED: u8 = 0;
/// Method byte: a zstd frame.
pub(crate) const ZSTD: u8 = 1;
/// Method byte: a dictionary id, then a zstd frame made with it.
pub(crate) const ZSTD_DICT: u8 = 2;

/// What a dictionary is trained on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DictKind {
    /// Raw answers (the `raw` table).
    Raw,
    /// Record payloads (`networks` and `placeholders`).
    Record,
}

impl DictKind {
    /// Stored code.
    pub(crate) fn code(self) -> u8 {
        match self {
            DictKind::Raw => 0,
            DictKind::Record => 1,
        }
    }

    /// Inverse of [`DictKind::code`].
    pub(crate) fn from_code(c: u8) -> Option<DictKind> {
        match c {
            0 => Some(DictKind::Raw),
            1 => Some(DictKind::Record),
            _ => None,
        }
    }

    /// Dictionary size: answers are ~3 KB, record payloads ~400 B.
    fn dict_bytes(self) -> usize {
        match self {
            DictKind::Raw => 64 << 10,
            DictKind::Record => 16 << 10,
        }
    }
}

/// One stored dictionary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dict {
    /// Its id (the zstd dictionary id, derived from its content).
    pub id: u32,
    /// What it packs.
    pub kind: DictKind,
    /// Whose answers it was trained on.
    pub registry: Registry,
    /// Number of samples it was trained on.
    pub samples: u32,
    /// When (RFC 3339).
    pub trained_at: String,
    /// The zstd dictionary.
    pub bytes: Arc<[u8]>,
}

/// The dictionaries of a store, by id.
pub(crate) type Dicts = BTreeMap<u32, Dict>;

/// The dictionary id in a zstd dictionary's header (0 when it has none).
pub(crate) fn dict_id(bytes: &[u8]) -> u32 {
    match bytes {
        [0x37, 0xA4, 0x30, 0xEC, a, b, c, d, ..] => u32::from_le_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}

/// Trains a dictionary on `samples`; `None` when zstd cannot (too few or
/// too uniform samples) or the result has no id.
pub(crate) fn train(kind: DictKind, samples: &[Vec<u8>]) -> Option<Vec<u8>> {
    // zstd wants about ten times (better: a hundred times) more sample
    // bytes than dictionary bytes.
    let total: usize = samples.iter().map(Vec::len).sum();
    let size = kind.dict_bytes().min(total / 10);
    if size < 1024 {
        return None;
    }
    let d = zstd::dict::from_samples(samples, size).ok()?;
    (dict_id(&d) != 0).then_some(d)
}

/// Packs payloads for the writer: a dictionary per (kind, registry) where
/// one exists, plain zstd elsewhere.
pub(crate) struct Packer {
    plain: Compressor<'static>,
    active: HashMap<(DictKind, Registry), (u32, Compressor<'static>)>,
}

impl Packer {
    /// A packer using the newest dictionary (highest id) of each pair in `dicts`.
    pub(crate) fn new(dicts: &Dicts) -> Result<Packer, Reason> {
        let mut p = Packer {
            plain: Compressor::new(LEVEL).map_err(|e| e.to_string())?,
            active: HashMap::new(),
        };
        for d in dicts.values() {
            p.add(d)?;
        }
        Ok(p)
    }

    /// Makes `d` the dictionary of its pair (unless one with a higher id is).
    pub(crate) fn add(&mut self, d: &Dict) -> Result<(), Reason> {
        let pair = (d.kind, d.registry);
        if self.active.get(&pair).is_some_and(|(id, _)| *id >= d.id) {
            return Ok(());
        }
        let c = Compressor::with_dictionary(LEVEL, &d.bytes)
            .map_err(|e| format!("dictionary {}: {e}", d.id))?;
        self.active.insert(pair, (d.id, c));
        Ok(())
    }

    /// Whether the pair has a dictionary.
    pub(crate) fn has(&self, kind: DictKind, registry: Registry) -> bool {
        self.active.contains_key(&(kind, registry))
    }

    /// The packed form of `payload` with plain zstd (values of no registry).
    pub(crate) fn pack_plain(&mut self, payload: &[u8]) -> Vec<u8> {
        match self.plain.compress(payload) {
            Ok(z) => {
                let mut out = Vec::with_capacity(z.len() + 1);
                out.push(ZSTD);
                out.extend_from_slice(&z);
                out
            }
            Err(_) => stored(payload),
        }
    }

    /// The packed form of `payload`.
    pub(crate) fn pack(&mut self, kind: DictKind, registry: Registry, payload: &[u8]) -> Vec<u8> {
        if let Some((id, c)) = self.active.get_mut(&(kind, registry)) {
            if let Ok(z) = c.compress(payload) {
                let mut out = Vec::with_capacity(z.len() + 5);
                out.push(ZSTD_DICT);
                out.extend_from_slice(&id.to_le_bytes());
                out.extend_from_slice(&z);
                return out;
            }
        }
        self.pack_plain(payload)
    }
}

/// The packed form of `payload` without compression.
pub(crate) fn stored(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(STORED);
    out.extend_from_slice(payload);
    out
}

/// The dictionary a packed value needs, if any.
pub(crate) fn needs_dict(packed: &[u8]) -> Option<u32> {
    match packed {
        [ZSTD_DICT, a, b, c, d, ..] => Some(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// Unpacks values for a reader, preparing each dictionary once.
pub(crate) struct Unpacker {
    dicts: Arc<Dicts>,
    plain: Option<Decompressor<'static>>,
    by_id: HashMap<u32, Decompressor<'static>>,
}

impl Unpacker {
    /// An unpacker for a store's dictionaries.
    pub(crate) fn new(dicts: Arc<Dicts>) -> Unpacker {
        Unpacker {
            dicts,
            plain: None,
            by_id: HashMap::new(),
        }
    }

    /// The payload of a packed value.
    pub(crate) fn unpack(&mut self, packed: &[u8]) -> Result<Vec<u8>, Reason> {
        let (&method, rest) = packed.split_first().ok_or("empty packed value")?;
        let z = |e: std::io::Error| format!("zstd: {e}");
        match method {
            STORED => Ok(rest.to_vec()),
            ZSTD => {
                if self.plain.is_none() {
                    self.plain = Some(Decompressor::new().map_err(z)?);
                }
                let d = self.plain.as_mut().ok_or("no decompressor")?;
                d.decompress(rest, UNPACK_CAP).map_err(z)
            }
            ZSTD_DICT => {
                let id = needs_dict(packed).ok_or("truncated dictionary id")?;
                if !self.by_id.contains_key(&id) {
                    let dict = self
                        .dicts
                        .get(&id)
                        .ok_or_else(|| format!("dictionary {id} is not in the dicts table"))?;
                    let d = Decompressor::with_dictionary(&dict.bytes).map_err(z)?;
                    self.by_id.insert(id, d);
                }
                let d = self.by_id.get_mut(&id).ok_or("no decompressor")?;
                d.decompress(&rest[4..], UNPACK_CAP).map_err(z)
            }
            m => Err(format!("unknown packing method {m}")),
        }
    }
}

/// A dictionary trained in the background, waiting to be stored.
pub(crate) struct Trained {
    pub(crate) kind: DictKind,
    pub(crate) registry: Registry,
    pub(crate) samples: u32,
    pub(crate) bytes: Vec<u8>,
}

/// Sample payloads of one pair, and their total bytes.
type Samples = (Vec<Vec<u8>>, usize);

/// Collects samples per (kind, registry) and trains each pair's dictionary
/// once, on a thread of its own: bounded work ([`TRAIN_SAMPLES`] samples of
/// at most 64 KB), off the writer's path.
#[derive(Default)]
pub(crate) struct Trainer {
    /// Samples and their total bytes, per pair.
    samples: HashMap<(DictKind, Registry), Samples>,
    /// Pairs being trained, trained, or given up on, this session.
    started: HashSet<(DictKind, Registry)>,
    done: Arc<Mutex<Vec<Trained>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Trainer {
    /// Offers a payload of a pair that has no dictionary yet.
    pub(crate) fn offer(&mut self, kind: DictKind, registry: Registry, payload: &[u8]) {
        let pair = (kind, registry);
        if payload.len() > SAMPLE_MAX || self.started.contains(&pair) {
            return;
        }
        let (v, bytes) = self.samples.entry(pair).or_default();
        v.push(payload.to_vec());
        *bytes += payload.len();
        if v.len() < TRAIN_SAMPLES && *bytes < SAMPLE_BUDGET {
            return;
        }
        let (samples, _) = self.samples.remove(&pair).unwrap_or_default();
        self.started.insert(pair);
        let done = Arc::clone(&self.done);
        let spawned = std::thread::Builder::new()
            .name(format!("dict-{}-{kind:?}", registry.name()))
            .spawn(move || {
                if let Some(bytes) = train(kind, &samples) {
                    let t = Trained {
                        kind,
                        registry,
                        samples: samples.len() as u32,
                        bytes,
                    };
                    done.lock().unwrap_or_else(PoisonError::into_inner).push(t);
                }
            });
        // No thread to be had: this pair stays without a dictionary.
        if let Ok(h) = spawned {
            self.threads.push(h);
        }
    }

    /// Dictionaries trained since the last call.
    pub(crate) fn finished(&mut self) -> Vec<Trained> {
        std::mem::take(&mut *self.done.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Waits for every training under way.
    pub(crate) fn wait(&mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                format!(
                    r#"{{"objectClassName":"ip network","handle":"NET-{i}","startAddress":"10.{}.{}.0","name":"CUSTOMER-{}","status":["active"],"events":[{{"eventAction":"registration","eventDate":"20{:02}-03-02T10:00:00Z"}}],"port43":"whois.example.net"}}"#,
                    i % 256,
                    (i * 7) % 256,
                    i * 31 % 997,
                    i % 25
                )
                .into_bytes()
            })
            .collect()
    }

    #[test]
    fn packs_round_trip_every_method() {
        let payloads = answers(3);
        let mut p = Packer::new(&Dicts::new()).unwrap();
        let mut u = Unpacker::new(Arc::new(Dicts::new()));
        for body in &payloads {
            let z = p.pack(DictKind::Raw, Registry::Arin, body);
            assert_eq!(z[0], ZSTD);
            assert_eq!(&u.unpack(&z).unwrap(), body);
            assert_eq!(&u.unpack(&stored(body)).unwrap(), body);
        }
        assert!(u.unpack(&[9, 1, 2]).unwrap_err().contains("method 9"));
        assert!(u.unpack(&[]).is_err());
    }

    #[test]
    fn a_dictionary_packs_smaller_and_is_named_by_id() {
        let samples = answers(TRAIN_SAMPLES);
        let bytes = train(DictKind::Raw, &samples).unwrap();
        let d = Dict {
            id: dict_id(&bytes),
            kind: DictKind::Raw,
            registry: Registry::Ripe,
            samples: samples.len() as u32,
            trained_at: "2026-12-01T00:00:00Z".into(),
            bytes: bytes.into(),
        };
        let dicts: Dicts = [(d.id, d.clone())].into();
        let mut p = Packer::new(&dicts).unwrap();
        assert!(p.has(DictKind::Raw, Registry::Ripe));
        assert!(!p.has(DictKind::Raw, Registry::Arin));
        let body = &answers(5000)[4321];
        let with = p.pack(DictKind::Raw, Registry::Ripe, body);
        let without = p.pack(DictKind::Raw, Registry::Arin, body);
        assert_eq!(needs_dict(&with), Some(d.id));
        assert_eq!(needs_dict(&without), None);
        assert!(
            with.len() * 2 < without.len(),
            "{} vs {}",
            with.len(),
            without.len()
        );
        let mut u = Unpacker::new(Arc::new(dicts));
        assert_eq!(&u.unpack(&with).unwrap(), body);
        // A reader without the dictionary says which one it lacks.
        let mut bare = Unpacker::new(Arc::new(Dicts::new()));
        let e = bare.unpack(&with).unwrap_err();
        assert!(e.contains(&format!("dictionary {}", d.id)), "{e}");
    }

    #[test]
    fn the_trainer_trains_once_per_pair_in_the_background() {
        let mut t = Trainer::default();
        for s in answers(TRAIN_SAMPLES - 1) {
            t.offer(DictKind::Raw, Registry::Apnic, &s);
        }
        t.wait();
        assert!(t.finished().is_empty(), "trained before enough samples");
        for s in answers(TRAIN_SAMPLES + 10) {
            t.offer(DictKind::Raw, Registry::Apnic, &s);
        }
        t.wait();
        let got = t.finished();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].registry, Registry::Apnic);
        assert_eq!(got[0].samples, TRAIN_SAMPLES as u32);
        assert_ne!(dict_id(&got[0].bytes), 0);
        assert!(t.finished().is_empty());
    }
}
