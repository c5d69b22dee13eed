//! The MASK study: kernel PCA and kernel t-SNE of variable-length sequences
//! through their recurrent NTK ([`crate::pipelines::mask`]), against PCA and
//! t-SNE of the zero-padded sequences, on the study's synthetic ODE series
//! and on the bundled JapaneseVowels set. Each embedding is scored by k-NN
//! accuracy, silhouette and trustworthiness.

use serde::Serialize;

use super::{decimal, serde_name, Part, PartOutput, Scale, Section, Study, StudyContext, Table};
use crate::data::sequences::{generate_ode, load_japanese_vowels, OdeConfig, SequenceSet};
use crate::embed::TsneConfig;
use crate::error::{Error, Result};
use crate::io::npy;
use crate::pipelines::mask::{run_mask, MaskConfig, MaskResult};
use crate::plot::{self, ScatterPanel};

/// The MASK study.
pub const STUDY: Study = Study {
    name: "mask",
    title: "MASK: recurrent NTK embeddings of sequences",
    introduction: "The recurrent NTK of an infinitely wide ReLU network compares sequences of any lengths. \
                   Kernel PCA and kernel t-SNE of its Gram matrix are set against PCA and t-SNE of the \
                   sequences zero-padded to the longest length, on the synthetic ODE series of the original \
                   study (two classes, unit-norm series with about 20% of the steps deleted) and on the \
                   JapaneseVowels speaker set (9 classes, 12 channels, 7 to 26 steps).",
    parts: &[ODE, JAPANESE_VOWELS],
    missing: &[],
};

const ODE: Part = Part {
    name: "ode",
    plan: plan_ode,
    run: run_ode,
};

const JAPANESE_VOWELS: Part = Part {
    name: "japanese_vowels",
    plan: plan_japanese_vowels,
    run: run_japanese_vowels,
};

/// Source of the sequences.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "kebab-case")]
enum SequenceSource {
    /// The synthetic ODE series; the seed of each run draws them anew.
    Ode {
        /// Series in each of the two classes.
        series_per_class: usize,
        /// Steps before deletion.
        steps: usize,
        /// Probability with which each step is deleted.
        delete_probability: f64,
    },
    /// The first `per_class` sequences of each speaker (30 is the whole set).
    JapaneseVowels {
        /// Sequences kept per class.
        per_class: usize,
    },
}

const JAPANESE_VOWELS_CLASSES: usize = 9;
const JAPANESE_VOWELS_PER_CLASS: usize = 30;

impl SequenceSource {
    fn sequences(self) -> usize {
        match self {
            Self::Ode {
                series_per_class, ..
            } => 2 * series_per_class,
            Self::JapaneseVowels { per_class } => JAPANESE_VOWELS_CLASSES * per_class,
        }
    }
}

/// Data, seeds and settings of one part.
#[derive(Debug, Clone, Serialize)]
struct MaskSetup {
    /// Part name and file prefix.
    part: &'static str,
    /// Heading of the report section.
    title: &'static str,
    /// Sequence set.
    source: SequenceSource,
    /// One run per seed (data for the ODE set, and t-SNE's initialisation);
    /// the figures show the first.
    seeds: Vec<u64>,
    /// Kernel, embedding and scoring settings.
    mask: MaskConfig,
}

fn mask_config(perplexity: f64, iterations: usize) -> MaskConfig {
    MaskConfig {
        tsne: TsneConfig {
            perplexity,
            n_iter: iterations,
            ..TsneConfig::default()
        },
        ..MaskConfig::default()
    }
}

fn ode_setup(scale: Scale) -> MaskSetup {
    let (series_per_class, seeds, mask) = match scale {
        // Two seeds, so that the tests cover the means over runs.
        Scale::Smoke => (20, vec![0, 1], mask_config(10.0, 300)),
        // The study's size: 100 series per class of 30 steps.
        Scale::Quick => (100, vec![0], mask_config(30.0, 1000)),
        Scale::Paper => (100, (0..5).collect(), mask_config(30.0, 1000)),
    };
    MaskSetup {
        part: "ode",
        title: "Synthetic ODE series",
        source: SequenceSource::Ode {
            series_per_class,
            steps: 30,
            delete_probability: 0.2,
        },
        seeds,
        mask,
    }
}

fn japanese_vowels_setup(scale: Scale) -> MaskSetup {
    let (per_class, seeds, mask) = match scale {
        Scale::Smoke => (5, vec![0], mask_config(10.0, 300)),
        Scale::Quick => (JAPANESE_VOWELS_PER_CLASS, vec![0], mask_config(30.0, 1000)),
        Scale::Paper => (
            JAPANESE_VOWELS_PER_CLASS,
            (0..5).collect(),
            mask_config(30.0, 1000),
        ),
    };
    MaskSetup {
        part: "japanese_vowels",
        title: "JapaneseVowels",
        source: SequenceSource::JapaneseVowels { per_class },
        seeds,
        mask,
    }
}

fn plan_ode(scale: Scale) -> Result<serde_json::Value> {
    plan(&ode_setup(scale))
}

fn plan_japanese_vowels(scale: Scale) -> Result<serde_json::Value> {
    plan(&japanese_vowels_setup(scale))
}

fn run_ode(context: &mut StudyContext) -> Result<PartOutput> {
    run_part(context, &ode_setup(context.scale))
}

fn run_japanese_vowels(context: &mut StudyContext) -> Result<PartOutput> {
    run_part(context, &japanese_vowels_setup(context.scale))
}

fn plan(setup: &MaskSetup) -> Result<serde_json::Value> {
    validate(setup)?;
    Ok(serde_json::to_value(setup).expect("the setup serialises"))
}

fn validate(setup: &MaskSetup) -> Result<()> {
    setup.mask.rntk.validate()?;
    setup.mask.tsne.validate(setup.source.sequences())?;
    if setup.seeds.is_empty() {
        return Err(Error::InvalidArgument {
            name: "seeds",
            value: "[]".to_string(),
            expected: "at least one seed".to_string(),
        });
    }
    if let SequenceSource::JapaneseVowels { per_class } = setup.source {
        if per_class == 0 || per_class > JAPANESE_VOWELS_PER_CLASS {
            return Err(Error::InvalidArgument {
                name: "per_class",
                value: per_class.to_string(),
                expected: format!("1 to {JAPANESE_VOWELS_PER_CLASS} sequences per speaker"),
            });
        }
    }
    Ok(())
}

/// Loads the sequences of one run: unit l2 norm per sequence, and for the
/// ODE set the random step deletion. Returns the set and the steps deleted.
fn load(source: SequenceSource, seed: u64) -> Result<(SequenceSet, usize)> {
    match source {
        SequenceSource::Ode {
            series_per_class,
            steps,
            delete_probability,
        } => {
            let mut set = generate_ode(&OdeConfig {
                series_per_class,
                steps,
                seed,
            })?;
            set.normalize_unit_l2()?;
            set.drop_steps_independently(delete_probability, seed)
        }
        SequenceSource::JapaneseVowels { per_class } => {
            let full = load_japanese_vowels()?;
            let mut kept_per_class = vec![0usize; full.n_classes()];
            let mut indices = Vec::new();
            for (index, &label) in full.labels().iter().enumerate() {
                if kept_per_class[label as usize] < per_class {
                    kept_per_class[label as usize] += 1;
                    indices.push(index);
                }
            }
            let mut set = full.subset(&indices)?;
            set.normalize_unit_l2()?;
            Ok((set, 0))
        }
    }
}

/// Scores of one embedding in one run.
#[derive(Debug, Clone, Serialize)]
struct Score {
    seed: u64,
    embedding: String,
    knn_accuracy: f64,
    silhouette: f64,
    trustworthiness: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    kl_divergence: Option<f64>,
}

const EMBEDDINGS: [(&str, &str); 4] = [
    ("pca", "PCA (zero-padded)"),
    ("rntk_pca", "RNTK kernel PCA"),
    ("tsne", "t-SNE (zero-padded)"),
    ("rntk_tsne", "RNTK kernel t-SNE"),
];

fn run_part(context: &mut StudyContext, setup: &MaskSetup) -> Result<PartOutput> {
    validate(setup)?;
    let mut scores = Vec::new();
    let mut first: Option<(SequenceSet, usize, MaskResult)> = None;
    let mut gram_seconds = 0.0;
    for (run, &seed) in setup.seeds.iter().enumerate() {
        context.stage(&format!(
            "{}: seed {seed} ({} of {})",
            setup.title,
            run + 1,
            setup.seeds.len()
        ));
        let (set, deleted) = load(setup.source, seed)?;
        let config = MaskConfig {
            tsne: TsneConfig {
                seed,
                ..setup.mask.tsne.clone()
            },
            ..setup.mask.clone()
        };
        let result = run_mask(context.gpu, &config, &set, &mut |stage| {
            log::debug!("{stage}")
        })?;
        gram_seconds += result.gram_seconds;
        for embedding in &result.embeddings {
            scores.push(Score {
                seed,
                embedding: embedding.name.clone(),
                knn_accuracy: embedding.knn_accuracy,
                silhouette: embedding.silhouette,
                trustworthiness: embedding.trustworthiness,
                kl_divergence: embedding.kl_divergence,
            });
        }
        context.advance(run + 1, setup.seeds.len());
        if first.is_none() {
            first = Some((set, deleted, result));
        }
    }
    let (set, deleted, result) = first.expect("validate requires at least one seed");

    let mut section = Section::new(setup.title);
    let lengths = set.lengths();
    section.paragraph(&format!(
        "Seed {}: {} sequences ({} channel(s), {} to {} steps long{}), {} in each of {} classes. Settings: {} {} recurrent \
         layer(s) with sw^2 = {}, su = {}, sb = {}, {} read-out, kernel PCA ridge {}, t-SNE perplexity {} for {} \
         iterations on the {} kernel distance; {} run(s) with seeds {:?}, and the figures show the first.",
        setup.seeds[0],
        set.n_sequences(),
        set.n_channels(),
        lengths.iter().min().copied().unwrap_or(0),
        set.max_length(),
        if deleted > 0 { format!(" after deleting {deleted} steps at random") } else { String::new() },
        set.n_sequences() / set.n_classes().max(1),
        set.n_classes(),
        setup.mask.rntk.layers,
        serde_name(&setup.mask.rntk.activation),
        decimal(setup.mask.rntk.sw * setup.mask.rntk.sw, 3),
        setup.mask.rntk.su,
        setup.mask.rntk.sb,
        serde_name(&setup.mask.rntk.readout),
        setup.mask.kpca_ridge,
        setup.mask.tsne.perplexity,
        setup.mask.tsne.n_iter,
        serde_name(&setup.mask.distance),
        setup.seeds.len(),
        setup.seeds,
    ));
    let means = mean_scores(&scores);
    write_embeddings(context, setup, &set, &result, &means, &mut section)?;
    write_scores(context, setup, &scores, &means, &mut section)?;
    let blocks = write_gram(context, setup, &set, &result, &mut section)?;

    let mean_json: serde_json::Map<String, serde_json::Value> = means
        .iter()
        .map(|mean| {
            let value = serde_json::json!({
                "knn_accuracy": mean.knn_accuracy,
                "silhouette": mean.silhouette,
                "trustworthiness": mean.trustworthiness,
            });
            (mean.embedding.to_string(), value)
        })
        .collect();
    let summary = serde_json::json!({
        "config": setup,
        "sequences": set.n_sequences(),
        "channels": set.n_channels(),
        "classes": set.n_classes(),
        "min_length": lengths.iter().min().copied().unwrap_or(0),
        "max_length": set.max_length(),
        "steps_deleted": deleted,
        "scores": scores,
        "mean_scores": mean_json,
        "rntk_cosine": {"within_class_mean": blocks.within, "between_class_mean": blocks.between},
        "gram_seconds": gram_seconds,
    });
    Ok(PartOutput { summary, section })
}

/// Mean scores of one embedding over the seeds.
struct MeanScore {
    embedding: &'static str,
    knn_accuracy: f64,
    silhouette: f64,
    trustworthiness: f64,
}

fn mean_scores(scores: &[Score]) -> Vec<MeanScore> {
    EMBEDDINGS
        .iter()
        .map(|&(name, _)| {
            let runs: Vec<&Score> = scores
                .iter()
                .filter(|score| score.embedding == name)
                .collect();
            let mean = |pick: fn(&Score) -> f64| {
                runs.iter().map(|score| pick(score)).sum::<f64>() / runs.len().max(1) as f64
            };
            MeanScore {
                embedding: name,
                knn_accuracy: mean(|score| score.knn_accuracy),
                silhouette: mean(|score| score.silhouette),
                trustworthiness: mean(|score| score.trustworthiness),
            }
        })
        .collect()
}

fn mean_of<'a>(means: &'a [MeanScore], name: &str) -> &'a MeanScore {
    means
        .iter()
        .find(|mean| mean.embedding == name)
        .expect("every embedding has a mean")
}

fn write_embeddings(
    context: &StudyContext,
    setup: &MaskSetup,
    set: &SequenceSet,
    result: &MaskResult,
    means: &[MeanScore],
    section: &mut Section,
) -> Result<()> {
    let panels: Vec<ScatterPanel> = result
        .embeddings
        .iter()
        .zip(EMBEDDINGS)
        .map(|(embedding, (_, title))| ScatterPanel {
            title,
            points: &embedding.coordinates,
            labels: set.labels(),
        })
        .collect();
    let figure = context.figure(&format!("{}_embeddings", setup.part))?;
    // The legend is one line of about 140 pixels per class above 480-pixel
    // panels, so sets with many classes get one row of four panels.
    let columns = if set.n_classes() > 6 { 4 } else { 2 };
    plot::scatter_grid(
        &figure.path,
        &format!("{}, seed {}", set.name(), setup.seeds[0]),
        &panels,
        columns,
        set.class_names(),
    )?;

    let mut header = vec![
        "index".to_string(),
        "label".to_string(),
        "class".to_string(),
    ];
    for embedding in &result.embeddings {
        header.push(format!("{}_x", embedding.name));
        header.push(format!("{}_y", embedding.name));
    }
    let mut table = Table::new(&header.iter().map(String::as_str).collect::<Vec<_>>());
    for (i, &label) in set.labels().iter().enumerate() {
        let mut cells = vec![
            i.to_string(),
            label.to_string(),
            set.class_names()[label as usize].clone(),
        ];
        for embedding in &result.embeddings {
            cells.push(decimal(embedding.coordinates[2 * i], 6));
            cells.push(decimal(embedding.coordinates[2 * i + 1], 6));
        }
        table.push(cells);
    }
    let table_file = context.table(&format!("{}_embeddings", setup.part))?;
    table.write_csv(&table_file.path)?;

    let averaged = if setup.seeds.len() > 1 {
        format!(" (means over {} seeds)", setup.seeds.len())
    } else {
        String::new()
    };
    let (pca, rntk_pca, tsne, rntk_tsne) = (
        mean_of(means, "pca"),
        mean_of(means, "rntk_pca"),
        mean_of(means, "tsne"),
        mean_of(means, "rntk_tsne"),
    );
    section.figure(
        &figure,
        &format!(
            "The four 2-D embeddings coloured by class. The {k}-NN accuracy of the labels{averaged} is {} in the RNTK \
             kernel t-SNE against {} in t-SNE of the zero-padded sequences, and {} in RNTK kernel PCA against {} in PCA.",
            decimal(rntk_tsne.knn_accuracy, 3),
            decimal(tsne.knn_accuracy, 3),
            decimal(rntk_pca.knn_accuracy, 3),
            decimal(pca.knn_accuracy, 3),
            k = setup.mask.knn_neighbors,
        ),
    );
    section.file(&table_file, "the coordinates of the four embeddings");
    Ok(())
}

fn write_scores(
    context: &StudyContext,
    setup: &MaskSetup,
    scores: &[Score],
    means: &[MeanScore],
    section: &mut Section,
) -> Result<()> {
    let mut table = Table::new(&[
        "seed",
        "embedding",
        "knn_accuracy",
        "silhouette",
        "trustworthiness",
        "kl_divergence",
    ]);
    for score in scores {
        table.push(vec![
            score.seed.to_string(),
            score.embedding.clone(),
            decimal(score.knn_accuracy, 4),
            decimal(score.silhouette, 4),
            decimal(score.trustworthiness, 4),
            score
                .kl_divergence
                .map_or(String::new(), |kl| decimal(kl, 4)),
        ]);
    }
    let table_file = context.table(&format!("{}_scores", setup.part))?;
    table.write_csv(&table_file.path)?;

    let mut mean_table =
        Table::new(&["embedding", "knn_accuracy", "silhouette", "trustworthiness"]);
    for mean in means {
        mean_table.push(vec![
            mean.embedding.to_string(),
            decimal(mean.knn_accuracy, 3),
            decimal(mean.silhouette, 3),
            decimal(mean.trustworthiness, 3),
        ]);
    }
    let best = means
        .iter()
        .max_by(|a, b| a.trustworthiness.total_cmp(&b.trustworthiness))
        .expect("four embeddings");
    section.table(
        &mean_table,
        &table_file,
        &format!(
            "Scores{} ({}-NN accuracy, silhouette of the labels, trustworthiness with {} neighbours against the \
             method's input distances; higher is better). The most trustworthy embedding is {}, at {}.",
            if setup.seeds.len() > 1 { format!(", means over {} seeds", setup.seeds.len()) } else { String::new() },
            setup.mask.knn_neighbors,
            setup.mask.trustworthiness_neighbors,
            best.embedding,
            decimal(best.trustworthiness, 3)
        ),
    );
    Ok(())
}

/// Mean cosine-normalised RNTK within and between classes.
struct BlockMeans {
    within: f64,
    between: f64,
}

/// Writes the RNTK Gram matrix and the class-by-class means of its cosine
/// normalisation K(x, y) / sqrt(K(x, x) K(y, y)).
fn write_gram(
    context: &StudyContext,
    setup: &MaskSetup,
    set: &SequenceSet,
    result: &MaskResult,
    section: &mut Section,
) -> Result<BlockMeans> {
    let n = set.n_sequences();
    let gram = &result.rntk_gram;
    let array = context.array(&format!("{}_rntk", setup.part))?;
    npy::write_f32(&array.path, &[n, n], gram)?;

    let classes = set.n_classes();
    let labels = set.labels();
    let mut sums = vec![vec![0.0f64; classes]; classes];
    let mut counts = vec![vec![0usize; classes]; classes];
    let (mut within, mut within_count, mut between, mut between_count) = (0.0, 0usize, 0.0, 0usize);
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let norm = (f64::from(gram[i * n + i]) * f64::from(gram[j * n + j])).sqrt();
            let cosine = if norm > 0.0 {
                f64::from(gram[i * n + j]) / norm
            } else {
                0.0
            };
            let (a, b) = (labels[i] as usize, labels[j] as usize);
            sums[a][b] += cosine;
            counts[a][b] += 1;
            if a == b {
                within += cosine;
                within_count += 1;
            } else {
                between += cosine;
                between_count += 1;
            }
        }
    }
    let blocks: Vec<Vec<f64>> = (0..classes)
        .map(|a| {
            (0..classes)
                .map(|b| sums[a][b] / counts[a][b].max(1) as f64)
                .collect()
        })
        .collect();
    let means = BlockMeans {
        within: within / within_count.max(1) as f64,
        between: between / between_count.max(1) as f64,
    };

    let names = set.class_names();
    let figure = context.figure(&format!("{}_rntk_blocks", setup.part))?;
    plot::heatmap(
        &figure.path,
        "Mean cosine-normalised RNTK (class x class)",
        names,
        names,
        &blocks,
    )?;
    let mut header = vec!["class"];
    header.extend(names.iter().map(String::as_str));
    let mut table = Table::new(&header);
    for (name, row) in names.iter().zip(&blocks) {
        let mut cells = vec![name.clone()];
        cells.extend(row.iter().map(|v| decimal(*v, 6)));
        table.push(cells);
    }
    let table_file = context.table(&format!("{}_rntk_blocks", setup.part))?;
    table.write_csv(&table_file.path)?;
    section.figure(
        &figure,
        &format!(
            "Mean of K(x, y) / sqrt(K(x, x) K(y, y)) for the RNTK over pairs of distinct sequences from each pair of \
             classes (seed {}): {} within classes against {} between classes.",
            setup.seeds[0],
            decimal(means.within, 3),
            decimal(means.between, 3)
        ),
    );
    section.file(&table_file, "the class-by-class means as a table");
    section.file(&array, &format!("the RNTK Gram matrix, {n} x {n} float32"));
    Ok(means)
}
