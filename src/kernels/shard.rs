//! Splitting a Gram matrix's tiles into shards for several processes or
//! machines, and a manifest of finished tiles so that a rerun computes only
//! what is missing.
//!
//! Shards are numbered from 0 to N - 1, as Slurm array task ids are. Shard i
//! takes a contiguous run of the tile list whose total area (entries) is
//! about 1/N of the whole, so shards finish at about the same time even
//! though edge tiles are smaller. Every shard writes into the same
//! preallocated `.npy` files at its tiles' offsets, so shards never
//! overwrite each other.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::kernels::tiling::TileBlock;

/// One share of a tile grid: `index` of `count`, numbered from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Shard {
    /// This shard's number, from 0.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Self { index: 0, count: 1 }
    }
}

impl Shard {
    /// Parses `I/N` with 0 <= I < N.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |expected: &str| Error::InvalidArgument {
            name: "shard",
            value: text.to_string(),
            expected: expected.to_string(),
        };
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| invalid("I/N, such as 0/4 for the first of 4 shards"))?;
        let index: usize = index
            .trim()
            .parse()
            .map_err(|_| invalid("I/N with whole numbers I and N"))?;
        let count: usize = count
            .trim()
            .parse()
            .map_err(|_| invalid("I/N with whole numbers I and N"))?;
        if count == 0 || index >= count {
            return Err(invalid("I/N with N >= 1 and 0 <= I < N (shards are numbered from 0, as Slurm array tasks are)"));
        }
        Ok(Self { index, count })
    }
}

/// The tiles of an `n1` x `n2` Gram matrix with edge `tile`, in row-major
/// tile order; a symmetric matrix lists only tiles on and above the diagonal.
pub fn tile_grid(n1: usize, n2: usize, tile: usize, symmetric: bool) -> Vec<TileBlock> {
    let mut blocks = Vec::new();
    for i in 0..n1.div_ceil(tile) {
        for j in 0..n2.div_ceil(tile) {
            if symmetric && j < i {
                continue;
            }
            blocks.push(TileBlock {
                row: i * tile,
                rows: tile.min(n1 - i * tile),
                column: j * tile,
                columns: tile.min(n2 - j * tile),
            });
        }
    }
    blocks
}

/// Indices of `tiles` that belong to `shard`: a contiguous run whose area
/// boundaries sit at i/N of the total area.
pub fn shard_range(tiles: &[TileBlock], shard: Shard) -> std::ops::Range<usize> {
    let total: u128 = tiles.iter().map(|t| (t.rows * t.columns) as u128).sum();
    let boundary = |part: usize| -> usize {
        if part == 0 {
            return 0;
        }
        if part == shard.count {
            return tiles.len();
        }
        let target = total * part as u128 / shard.count as u128;
        let mut cumulative = 0u128;
        for (index, t) in tiles.iter().enumerate() {
            if cumulative >= target {
                return index;
            }
            cumulative += (t.rows * t.columns) as u128;
        }
        tiles.len()
    };
    boundary(shard.index)..boundary(shard.index + 1)
}

/// FNV-1a 64-bit hash, stable across platforms and Rust versions, for
/// recognising the inputs a manifest belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    /// Mixes `bytes` into the hash.
    pub fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Returns the hash as 16 hexadecimal digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// Record of finished tiles of one output directory: `DIR/manifest.tiles`,
/// a first line with the input fingerprint, then one finished tile index
/// per line. All shards append to it; a tile is listed only after its data
/// reached the disk.
pub struct TileManifest {
    path: PathBuf,
    file: File,
    done: HashSet<usize>,
}

impl TileManifest {
    /// Opens (or starts) the manifest of `directory` for inputs with
    /// `fingerprint`; a manifest of other inputs is an error.
    pub fn open(directory: &Path, fingerprint: &Fingerprint) -> Result<Self> {
        let path = directory.join("manifest.tiles");
        let io_error = |source| Error::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(directory).map_err(|source| Error::Io {
            path: directory.to_path_buf(),
            source,
        })?;
        let expected_header = format!("maso tile manifest {}", fingerprint.hex());
        Self::create_if_missing(&path, &expected_header)?;

        let mut done = HashSet::new();
        let reader = BufReader::new(File::open(&path).map_err(io_error)?);
        let mut lines = reader.lines();
        let header = lines
            .next()
            .transpose()
            .map_err(io_error)?
            .unwrap_or_default();
        if header != expected_header {
            return Err(Error::InvalidArgument {
                name: "output directory",
                value: format!("{} (manifest {header:?})", directory.display()),
                expected: format!("a manifest for these inputs ({expected_header:?}); the inputs or settings changed, so use a new --out directory or delete the old one"),
            });
        }
        for line in lines {
            let line = line.map_err(io_error)?;
            // A line cut short by a killed process is ignored; the tile is redone.
            if let Ok(index) = line.trim().parse::<usize>() {
                if line.ends_with(char::is_numeric) {
                    done.insert(index);
                }
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_error)?;
        Ok(Self { path, file, done })
    }

    /// Creates the manifest with its header line unless it exists. Shards
    /// start at the same time, so the header is written to a private file
    /// and hard-linked into place. Linking fails rather than overwrites when
    /// another shard got there first, and readers never see a partial header.
    fn create_if_missing(path: &Path, header: &str) -> Result<()> {
        if path.exists() {
            return Ok(());
        }
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let private = path.with_extension(format!("tiles.{}.{unique}", std::process::id()));
        let io_error = |source| Error::Io {
            path: private.clone(),
            source,
        };
        let mut file = File::create(&private).map_err(io_error)?;
        file.write_all(format!("{header}\n").as_bytes())
            .map_err(io_error)?;
        file.sync_all().map_err(io_error)?;
        let linked = std::fs::hard_link(&private, path);
        let _ = std::fs::remove_file(&private);
        match linked {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(source) => Err(Error::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Returns whether tile `index` is already finished.
    pub fn is_done(&self, index: usize) -> bool {
        self.done.contains(&index)
    }

    /// Number of finished tiles recorded.
    pub fn done_count(&self) -> usize {
        self.done.len()
    }

    /// Records tile `index` as finished (call after its data is synced).
    pub fn mark_done(&mut self, index: usize) -> Result<()> {
        let io_error = |source| Error::Io {
            path: self.path.clone(),
            source,
        };
        // One write call per line: appends of a few bytes are atomic on
        // local file systems, so concurrent shards never interleave lines.
        // NOTE: NFS does not guarantee atomic appends from several clients.
        self.file
            .write_all(format!("{index}\n").as_bytes())
            .map_err(io_error)?;
        self.file.sync_data().map_err(io_error)?;
        self.done.insert(index);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_tile_once() {
        for (n1, n2, tile, symmetric) in [
            (1, 1, 4, true),
            (10, 10, 3, true),
            (100, 37, 8, false),
            (257, 257, 64, true),
            (1000, 3, 7, false),
        ] {
            let tiles = tile_grid(n1, n2, tile, symmetric);
            for count in [1, 2, 3, 4, 7, 16, 100] {
                let mut seen = vec![0u32; tiles.len()];
                let mut previous_end = 0;
                for index in 0..count {
                    let range = shard_range(&tiles, Shard { index, count });
                    assert_eq!(
                        range.start, previous_end,
                        "n = {n1}x{n2}, {count} shards: gap before shard {index}"
                    );
                    previous_end = range.end;
                    for t in range {
                        seen[t] += 1;
                    }
                }
                assert!(
                    seen.iter().all(|&s| s == 1),
                    "n = {n1}x{n2}, tile {tile}, {count} shards: {seen:?}"
                );
            }
        }
    }

    #[test]
    fn shards_are_balanced_by_area() {
        let tiles = tile_grid(1000, 1000, 64, true);
        let total: usize = tiles.iter().map(|t| t.rows * t.columns).sum();
        for index in 0..4 {
            let area: usize = tiles[shard_range(&tiles, Shard { index, count: 4 })]
                .iter()
                .map(|t| t.rows * t.columns)
                .sum();
            assert!(
                (area as f64 - total as f64 / 4.0).abs() <= 64.0 * 64.0,
                "shard {index}: {area} of {total}"
            );
        }
    }

    #[test]
    fn shard_text_is_validated() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        for bad in ["5/4", "4/4", "1/0", "a/4", "3"] {
            let message = Shard::parse(bad).unwrap_err().to_string();
            assert!(message.contains(bad), "{message}");
        }
    }

    #[test]
    fn concurrent_shards_share_one_manifest() {
        let directory =
            std::env::temp_dir().join(format!("maso-manifest-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        let fingerprint = Fingerprint::default();
        std::thread::scope(|scope| {
            for shard in 0..8usize {
                let directory = &directory;
                scope.spawn(move || {
                    let mut manifest = TileManifest::open(directory, &fingerprint).unwrap();
                    for tile in 0..20 {
                        manifest.mark_done(shard * 20 + tile).unwrap();
                    }
                });
            }
        });
        let manifest = TileManifest::open(&directory, &fingerprint).unwrap();
        assert_eq!(manifest.done_count(), 160);
    }

    #[test]
    fn manifest_rejects_other_inputs_and_resumes() {
        let directory = std::env::temp_dir().join(format!("maso-manifest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        let mut first = Fingerprint::default();
        first.update(b"inputs A");
        let mut manifest = TileManifest::open(&directory, &first).unwrap();
        manifest.mark_done(3).unwrap();
        manifest.mark_done(5).unwrap();
        drop(manifest);
        let reopened = TileManifest::open(&directory, &first).unwrap();
        assert!(reopened.is_done(3));
        assert!(reopened.is_done(5));
        assert!(!reopened.is_done(4));
        let mut second = Fingerprint::default();
        second.update(b"inputs B");
        let message = TileManifest::open(&directory, &second)
            .err()
            .unwrap()
            .to_string();
        assert!(message.contains("inputs or settings changed"), "{message}");
    }
}
