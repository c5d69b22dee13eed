//! Sharded Gram matrices: shards writing into one set of `.npy` files give
//! the unsharded result bit for bit, and a shard killed half-way resumes
//! from its manifest.

mod common;

use std::path::Path;

use common::{gpu, uniform_values};
use maso::kernels::ntk::{
    compute_ntk_gram, compute_ntk_gram_selected, GramOptions, GramSink, Inputs, MemorySink,
    NpyDtype, NpySink, NtkConfig,
};
use maso::kernels::rntk::{
    compute_rntk_gram, compute_rntk_gram_selected, RntkConfig, SequenceInputs,
};
use maso::kernels::shard::{Fingerprint, Shard, TileManifest};
use maso::kernels::tiling::TileSelection;

fn scratch(name: &str) -> std::path::PathBuf {
    let directory = std::env::temp_dir().join(format!("maso-shard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    directory
}

fn read_component(directory: &Path, name: &str) -> Vec<f32> {
    maso::io::npy::read_f32(directory.join(format!("{name}.npy")))
        .unwrap()
        .data
}

fn sequences() -> (Vec<f32>, Vec<usize>) {
    let lengths: Vec<usize> = (0..70).map(|i| 3 + (i * 7) % 11).collect();
    let total: usize = lengths.iter().sum();
    let mut offsets = vec![0];
    for length in &lengths {
        offsets.push(offsets.last().unwrap() + length);
    }
    (uniform_values(81, total * 2, -1.0, 1.0), offsets)
}

#[test]
fn rntk_shards_equal_unsharded_result() {
    let (values, offsets) = sequences();
    let set = SequenceInputs::new(&values, &offsets, 2, "set").unwrap();
    let config = RntkConfig::default();
    let mut whole = MemorySink::new(2, 70, 70);
    compute_rntk_gram(
        gpu(),
        &config,
        &set,
        None,
        Some(16),
        &mut whole,
        &mut |_, _| {},
    )
    .unwrap();

    let directory = scratch("rntk");
    let names = vec!["nngp".to_string(), "ntk".to_string()];
    let fingerprint = Fingerprint::default();
    for index in [2, 0, 3, 1] {
        let mut sink = NpySink::open_shared(&directory, &names, 70, 70, NpyDtype::Float32).unwrap();
        let mut manifest = TileManifest::open(&directory, &fingerprint).unwrap();
        let selection = TileSelection {
            shard: Shard { index, count: 4 },
            manifest: Some(&mut manifest),
        };
        compute_rntk_gram_selected(
            gpu(),
            &[],
            &config,
            &set,
            None,
            Some(16),
            &mut sink,
            selection,
            &mut |_, _| {},
        )
        .unwrap();
    }
    assert_eq!(read_component(&directory, "nngp"), whole.components[0]);
    assert_eq!(read_component(&directory, "ntk"), whole.components[1]);
}

/// An `NpySink` that fails after a number of blocks, like a killed process.
struct FailingSink {
    inner: NpySink,
    blocks_left: usize,
}

impl GramSink for FailingSink {
    fn write_block(
        &mut self,
        component: usize,
        row: usize,
        column: usize,
        rows: usize,
        columns: usize,
        block: &[f32],
    ) -> maso::Result<()> {
        if self.blocks_left == 0 {
            return Err(maso::Error::Poll("simulated crash".to_string()));
        }
        self.blocks_left -= 1;
        self.inner
            .write_block(component, row, column, rows, columns, block)
    }

    fn sync(&mut self) -> maso::Result<()> {
        self.inner.sync()
    }
}

#[test]
fn killed_ntk_shard_resumes() {
    let (n1, n2, dimension) = (50, 37, 5);
    let x1 = uniform_values(82, n1 * dimension, -1.0, 1.0);
    let x2 = uniform_values(83, n2 * dimension, -1.0, 1.0);
    let inputs1 = Inputs::new(&x1, n1, dimension, "x1").unwrap();
    let inputs2 = Inputs::new(&x2, n2, dimension, "x2").unwrap();
    let config = NtkConfig {
        depth: 2,
        b_std: Some(0.1),
        ..NtkConfig::default()
    };
    let options = GramOptions {
        per_layer: false,
        tile: Some(16),
    };
    let mut whole = MemorySink::new(2, n1, n2);
    compute_ntk_gram(
        gpu(),
        &config,
        &inputs1,
        Some(&inputs2),
        &options,
        &mut whole,
        &mut |_, _| {},
    )
    .unwrap();

    let directory = scratch("ntk");
    let names = vec!["nngp".to_string(), "ntk".to_string()];
    let mut fingerprint = Fingerprint::default();
    fingerprint.update(b"killed shard test");
    let shard = Shard { index: 0, count: 1 };
    {
        // Two components per tile: the third tile fails half-way.
        let inner = NpySink::open_shared(&directory, &names, n1, n2, NpyDtype::Float32).unwrap();
        let mut sink = FailingSink {
            inner,
            blocks_left: 5,
        };
        let mut manifest = TileManifest::open(&directory, &fingerprint).unwrap();
        let selection = TileSelection {
            shard,
            manifest: Some(&mut manifest),
        };
        assert!(compute_ntk_gram_selected(
            gpu(),
            &[],
            &config,
            &inputs1,
            Some(&inputs2),
            &options,
            &mut sink,
            selection,
            &mut |_, _| {}
        )
        .is_err());
    }
    let mut manifest = TileManifest::open(&directory, &fingerprint).unwrap();
    assert_eq!(manifest.done_count(), 2);
    let mut sink = NpySink::open_shared(&directory, &names, n1, n2, NpyDtype::Float32).unwrap();
    let selection = TileSelection {
        shard,
        manifest: Some(&mut manifest),
    };
    let report = compute_ntk_gram_selected(
        gpu(),
        &[],
        &config,
        &inputs1,
        Some(&inputs2),
        &options,
        &mut sink,
        selection,
        &mut |_, _| {},
    )
    .unwrap();
    // 4 x 3 tiles of 16, of which 2 were already done.
    assert_eq!(report.tiles_computed, 10);
    assert_eq!(read_component(&directory, "nngp"), whole.components[0]);
    assert_eq!(read_component(&directory, "ntk"), whole.components[1]);

    let message = NpySink::open_shared(&directory, &names, n1 + 1, n2, NpyDtype::Float32)
        .err()
        .unwrap()
        .to_string();
    assert!(message.contains("another shape"), "{message}");
}

#[test]
fn several_devices_share_the_tile_queue() {
    // Two devices on the same adapter stand in for two GPUs.
    let second = maso::Gpu::new().unwrap();
    let (values, offsets) = sequences();
    let set = SequenceInputs::new(&values, &offsets, 2, "set").unwrap();
    let config = RntkConfig::default();
    let mut whole = MemorySink::new(2, 70, 70);
    compute_rntk_gram(
        gpu(),
        &config,
        &set,
        None,
        Some(16),
        &mut whole,
        &mut |_, _| {},
    )
    .unwrap();
    let mut shared = MemorySink::new(2, 70, 70);
    let mut calls = 0;
    let report = compute_rntk_gram_selected(
        gpu(),
        &[&second],
        &config,
        &set,
        None,
        Some(16),
        &mut shared,
        TileSelection::default(),
        &mut |_, _| calls += 1,
    )
    .unwrap();
    assert_eq!(shared.components, whole.components);
    // 5 x 5 tiles of 16, of which the 15 on or above the diagonal are computed.
    assert_eq!(report.tiles_computed, 15);
    assert_eq!(calls, 15);

    let (n, dimension) = (45, 4);
    let x = uniform_values(84, n * dimension, -1.0, 1.0);
    let inputs = Inputs::new(&x, n, dimension, "x").unwrap();
    let ntk_config = NtkConfig {
        depth: 2,
        ..NtkConfig::default()
    };
    let options = GramOptions {
        per_layer: true,
        tile: Some(16),
    };
    let mut single = MemorySink::new(5, n, n);
    compute_ntk_gram(
        gpu(),
        &ntk_config,
        &inputs,
        None,
        &options,
        &mut single,
        &mut |_, _| {},
    )
    .unwrap();
    let mut parallel = MemorySink::new(5, n, n);
    compute_ntk_gram_selected(
        gpu(),
        &[&second],
        &ntk_config,
        &inputs,
        None,
        &options,
        &mut parallel,
        TileSelection::default(),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(parallel.components, single.components);
}
