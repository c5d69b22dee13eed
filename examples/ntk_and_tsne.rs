//! Embedding maso as a library: per-layer NTK Gram matrices of MNIST digits
//! and a kernel t-SNE embedding of them, computed on the GPU from Rust code.
//!
//! ```text
//! cargo run --release --example ntk_and_tsne -- [POINTS] [OUT.png]
//! ```
//!
//! The example takes POINTS digits (default 500) of a shuffled copy of the
//! bundled 5000-digit MNIST subset, with pixels scaled to [0, 1]. It then
//! computes the NNGP, the NTK and the NTK's per-layer terms of an
//! infinitely wide ReLU network with 3 hidden layers, and checks that the
//! terms sum to the NTK. Next it embeds the digits in 2-D by t-SNE on the
//! cosine distance 1 - K(x, y) / sqrt(K(x, x) K(y, y)) of three kernels: the
//! NTK, the first layer's term and the read-out layer's term. It prints each
//! layer's share of the NTK and the 5-NN accuracy of the labels in each
//! embedding, and writes the three scatter plots to OUT.png (default
//! `ntk_tsne.png`). The adapter follows WGPU_BACKEND, WGPU_ADAPTER_NAME and
//! WGPU_POWER_PREF, as for the `maso` command.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use maso::data::{load_mnist_bundled, PixelScale};
use maso::embed::{kernel_distances, knn_accuracy, tsne, KernelDistance, TsneConfig};
use maso::kernels::ntk::{
    component_names, compute_ntk_gram, GramOptions, Inputs, MemorySink, NtkConfig,
};
use maso::plot::{scatter_grid, ScatterPanel};
use maso::Gpu;

/// Measurements of one run of the example.
#[derive(Debug)]
struct Summary {
    /// Mean diagonal of each per-layer term divided by the NTK's.
    layer_shares: Vec<f64>,
    /// Largest |sum of the per-layer terms - NTK| relative to the largest NTK entry.
    sum_error: f64,
    /// For the NTK, the first layer's term and the last layer's term: the
    /// embedding's title, the 5-NN accuracy of the labels in it and t-SNE's
    /// final KL divergence.
    embeddings: Vec<(String, f64, f64)>,
}

fn run(points: usize, out: &Path) -> Result<Summary> {
    if !(10..=5000).contains(&points) {
        bail!("POINTS must be 10 to 5000 (the bundled subset has 5000 digits), not {points}");
    }

    // The bundled subset is sorted by digit, so shuffle before taking a prefix.
    let digits = load_mnist_bundled(PixelScale::UnitInterval)?.shuffled(0);
    let first_digits: Vec<usize> = (0..points).collect();
    let digits = digits.subset(&first_digits)?;
    let inputs = Inputs::new(
        digits.features(),
        points,
        digits.n_features(),
        "MNIST digits",
    )?;

    // The Gram matrices go to host memory: components nngp, ntk, layer_0..layer_3.
    let gpu = Gpu::new()?;
    let network = NtkConfig {
        depth: 3,
        w_std: std::f64::consts::SQRT_2,
        b_std: Some(0.1),
        ..NtkConfig::default()
    };
    let names = component_names(network.depth, true);
    let mut gram = MemorySink::new(names.len(), points, points);
    let options = GramOptions {
        per_layer: true,
        tile: None,
    };
    compute_ntk_gram(
        &gpu,
        &network,
        &inputs,
        None,
        &options,
        &mut gram,
        &mut |_, _| {},
    )?;

    let ntk = &gram.components[1];
    let layers = &gram.components[2..];
    let largest = ntk.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
    let sum_error = (0..ntk.len())
        .map(|i| {
            (layers.iter().map(|layer| f64::from(layer[i])).sum::<f64>() - f64::from(ntk[i])).abs()
        })
        .fold(0.0, f64::max)
        / largest;
    let mean_diagonal = |matrix: &[f32]| {
        (0..points)
            .map(|i| f64::from(matrix[i * points + i]))
            .sum::<f64>()
            / points as f64
    };
    let layer_shares = layers
        .iter()
        .map(|layer| mean_diagonal(layer) / mean_diagonal(ntk))
        .collect();

    // t-SNE on a distance derived from each kernel, with scikit-learn's
    // defaults; the perplexity must stay below the number of points.
    let config = TsneConfig {
        perplexity: 30.0f64.min((points - 1) as f64 / 3.0),
        ..TsneConfig::default()
    };
    let last = names.len() - 1;
    let kernels = [
        (1, "the NTK".to_string()),
        (2, "layer 0's term".to_string()),
        (last, format!("layer {}'s term", last - 2)),
    ];
    let mut embeddings = Vec::new();
    for (component, name) in &kernels {
        let distances =
            kernel_distances(&gram.components[*component], points, KernelDistance::Cosine)?;
        let embedding = tsne(&gpu, &distances, &config, &mut |_, _| {})?;
        let accuracy = knn_accuracy(&embedding.embedding, 2, digits.labels(), 5)?;
        embeddings.push((format!("kernel t-SNE of {name}"), embedding, accuracy));
    }

    let coordinates: Vec<Vec<f64>> = embeddings
        .iter()
        .map(|(_, e, _)| e.embedding.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let panels: Vec<ScatterPanel> = embeddings
        .iter()
        .zip(&coordinates)
        .map(|((title, _, _), points)| ScatterPanel {
            title,
            points,
            labels: digits.labels(),
        })
        .collect();
    scatter_grid(
        out,
        &format!("{points} MNIST digits"),
        &panels,
        panels.len(),
        digits.class_names(),
    )
    .with_context(|| format!("failed to write {}", out.display()))?;

    Ok(Summary {
        layer_shares,
        sum_error,
        embeddings: embeddings
            .into_iter()
            .map(|(title, embedding, accuracy)| (title, accuracy, embedding.kl_divergence))
            .collect(),
    })
}

fn main() -> Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let points = match arguments.first() {
        Some(text) => text
            .parse()
            .with_context(|| format!("POINTS must be a whole number, not {text:?}"))?,
        None => 500,
    };
    let out = arguments
        .get(1)
        .map_or_else(|| PathBuf::from("ntk_tsne.png"), PathBuf::from);

    let summary = run(points, &out)?;
    for (h, share) in summary.layer_shares.iter().enumerate() {
        println!(
            "layer {h}: {:.1}% of the NTK's mean diagonal",
            100.0 * share
        );
    }
    println!(
        "per-layer terms sum to the NTK within {:.1e} of its largest entry",
        summary.sum_error
    );
    for (title, accuracy, kl_divergence) in &summary.embeddings {
        println!(
            "{title}: 5-NN accuracy of the labels {accuracy:.3}, KL divergence {kl_divergence:.3}"
        );
    }
    println!("scatter plot written to {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the example on 60 digits, as `cargo test --release --example
    /// ntk_and_tsne` (and the full `cargo test`) do.
    #[test]
    fn example_runs_on_small_slice() {
        let directory =
            std::env::temp_dir().join(format!("maso-example-ntk-tsne-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let out = directory.join("ntk_tsne.png");
        let summary = run(60, &out).unwrap();

        assert_eq!(summary.layer_shares.len(), 4);
        // Each per-layer term is positive semi-definite, so its diagonal is a
        // non-negative share of the NTK's, and the shares sum to 1.
        assert!(
            summary
                .layer_shares
                .iter()
                .all(|&share| (0.0..=1.0).contains(&share)),
            "{summary:?}"
        );
        assert!(
            (summary.layer_shares.iter().sum::<f64>() - 1.0).abs() < 1e-5,
            "{summary:?}"
        );
        // float32 sums of four terms: a few units in the last place of the largest entry.
        assert!(summary.sum_error < 1e-5, "{summary:?}");
        assert_eq!(summary.embeddings.len(), 3);
        for (title, accuracy, kl_divergence) in &summary.embeddings {
            assert!((0.0..=1.0).contains(accuracy), "{title}: {summary:?}");
            assert!(kl_divergence.is_finite(), "{title}: {summary:?}");
            assert!(*kl_divergence >= 0.0, "{title}: {summary:?}");
        }

        let image = image::open(&out).unwrap();
        assert!(image.width() > 100, "width {}", image.width());
        assert!(image.height() > 100, "height {}", image.height());
    }
}
