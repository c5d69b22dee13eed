//! The MAD study: self-consuming loops ([`crate::pipelines::mad`]) of
//! Gaussians in the three loop families at sampling bias lambda 1 and 0.8,
//! scored against the real distribution each generation. A second part runs
//! the fully synthetic loop of a 25-component Gaussian mixture on the
//! 25-mode grid and counts the modes it keeps.

use serde::Serialize;

use super::{decimal, Part, PartOutput, Scale, Section, Study, StudyContext, Table};
use crate::error::{Error, Result};
use crate::generative::{GmmOptions, LoopConfig, LoopFamily, RealDistribution, SyntheticSource};
use crate::pipelines::mad::{
    average_by_generation, run_mad, GenerationMetrics, MadConfig, MadModel, MadResult,
};
use crate::plot::{self, ScatterPanel};

/// The MAD study.
pub const STUDY: Study = Study {
    name: "mad",
    title: "MAD: self-consuming generative loops",
    introduction: "Each generation fits a model to data that include samples of the previous generation's \
                   model. Gaussian loops run in the three families of the original study (fully synthetic, \
                   synthetic augmentation of a fixed real set, fresh real data each generation) at sampling \
                   bias lambda 1 and 0.8, many chains at once; a Gaussian mixture loops on the 25-mode grid. \
                   Every generation is scored against held-out real samples by k-NN precision and recall and, \
                   for Gaussians, by the exact Wasserstein-2 distance to the real distribution.",
    parts: &[GAUSSIAN, GRID, ddpm::DDPM],
    missing: &[],
};

mod ddpm {
    //! The DDPM part: a fully synthetic loop of a conditional DDPM on the
    //! bundled MNIST subset ([`crate::pipelines::mad_ddpm`]), scored by a
    //! digit classifier's features.

    use super::super::output::OutputFile;
    use super::{decimal, Part, PartOutput, Scale, Section, StudyContext, Table};
    use crate::error::Result;
    use crate::generative::ddpm::DenoiserConfig;
    use crate::pipelines::mad_ddpm::{self, DdpmProgress, DdpmStudyConfig};

    pub(super) const DDPM: Part = Part {
        name: "ddpm",
        plan: plan_ddpm,
        run: run_ddpm,
    };

    fn ddpm_config(scale: Scale) -> DdpmStudyConfig {
        let mut config = DdpmStudyConfig::quick();
        match scale {
            Scale::Smoke => {
                config.generations = 2;
                config.n_real = 200;
                config.n_initial = 200;
                config.n_synthetic = 100;
                config.reference_samples = 100;
                config.metric_samples = 100;
                config.denoiser = DenoiserConfig {
                    time_frequencies: 8,
                    ..DenoiserConfig::mnist(32, 1)
                };
                config.diffusion_steps = 50;
                config.training.steps = 10;
                config.sampling_steps = 5;
                config.sampling_batch = 100;
                config.classifier.epochs = 1;
                config.classifier.hidden = 32;
                config.classifier.features = 16;
                config.grid_per_class = 8;
            }
            Scale::Quick => {}
            Scale::Paper => {
                // The original settings (T = 500, four lambdas, 20
                // generations) on as many images as the bundled subset
                // holds; the 60,000-image study runs with
                // `maso mad --model ddpm --dataset mnist:DIR`.
                config.lambdas = vec![1.0, 0.8, 0.66, 0.5];
                config.generations = 20;
                config.n_real = 4000;
                config.n_initial = 4000;
                config.n_synthetic = 4000;
                config.reference_samples = 1000;
                config.metric_samples = 1000;
                config.denoiser = DenoiserConfig::mnist(512, 3);
                config.training.steps = 5000;
                config.training.batch_size = 128;
                config.sampling_steps = 100;
            }
        }
        config
    }

    fn plan_ddpm(scale: Scale) -> Result<serde_json::Value> {
        let config = ddpm_config(scale);
        config.validate()?;
        Ok(serde_json::to_value(&config).expect("the configuration serialises"))
    }

    fn run_ddpm(context: &mut StudyContext) -> Result<PartOutput> {
        let config = ddpm_config(context.scale);
        context.stage(&format!(
            "DDPM loop on MNIST: {} generations, lambda {:?}",
            config.generations, config.lambdas
        ));
        let directory = context.directory().join("ddpm");
        let total = config.generations * config.lambdas.len();
        let gpu = context.gpu;
        let mut finished = 0;
        let summary = mad_ddpm::run(gpu, &config, &directory, &mut |event| {
            if let DdpmProgress::Generation(_) = event {
                finished += 1;
                context.advance(finished, total);
            }
        })?;

        let mut section = Section::new("Conditional DDPM on MNIST");
        section.paragraph(&format!(
            "A conditional DDPM (residual MLP denoiser, T = {} steps, classifier-free guidance trained with              {}% label dropout, sampled in {} strided steps) loops fully synthetically: generation 1 trains on {}              real digits, every later generation on {} samples of the previous model. Samples are scored against              {} held-out real digits in the feature space of a digit classifier trained with maso (held-out              accuracy {}).",
            config.diffusion_steps,
            (config.training.label_dropout * 100.0).round(),
            config.sampling_steps,
            config.n_initial,
            config.n_synthetic,
            config.reference_samples,
            decimal(summary.classifier_accuracy, 3)
        ));
        let link = |name: &str| OutputFile {
            path: directory.join(name),
            link: format!("ddpm/{name}"),
        };
        let first = summary.rows.first();
        let last = summary.rows.last();
        if let (Some(first), Some(last)) = (first, last) {
            section.figure(
                &link("fid.png"),
                &format!(
                    "Fréchet distance per generation: {} in generation 1, {} in generation {}.",
                    decimal(first.fid, 1),
                    decimal(last.fid, 1),
                    last.generation
                ),
            );
            section.figure(
                &link("recall.png"),
                &format!(
                    "Recall (diversity) per generation: {} in generation 1, {} in generation {}.",
                    decimal(first.recall, 3),
                    decimal(last.recall, 3),
                    last.generation
                ),
            );
            section.figure(
                &link("precision.png"),
                &format!(
                    "Precision (quality) per generation: {} in generation 1, {} in generation {}.",
                    decimal(first.precision, 3),
                    decimal(last.precision, 3),
                    last.generation
                ),
            );
            let grid = format!(
                "lambda-{}/generation-{:03}/grid.png",
                last.lambda, last.generation
            );
            section.figure(
                &link(&grid),
                &format!(
                    "Samples of generation {} (one row per digit).",
                    last.generation
                ),
            );
        }
        let mut table = Table::new(&[
            "lambda",
            "generation",
            "FID",
            "precision",
            "recall",
            "density",
            "coverage",
            "label accuracy",
        ]);
        for row in &summary.rows {
            table.push(vec![
                row.lambda.to_string(),
                row.generation.to_string(),
                decimal(row.fid, 2),
                decimal(row.precision, 3),
                decimal(row.recall, 3),
                decimal(row.density, 3),
                decimal(row.coverage, 3),
                decimal(row.sample_accuracy, 3),
            ]);
        }
        let table_file = context.table("ddpm_generations")?;
        table.write_csv(&table_file.path)?;
        section.table(&table, &table_file, "Metrics of every generation");
        Ok(PartOutput {
            summary: serde_json::json!({
                "config": config,
                "classifier_accuracy": summary.classifier_accuracy,
                "rows": summary.rows,
            }),
            section,
        })
    }
}

const GAUSSIAN: Part = Part {
    name: "gaussian",
    plan: plan_gaussian,
    run: run_gaussian,
};

const GRID: Part = Part {
    name: "grid",
    plan: plan_grid,
    run: run_grid,
};

/// The loop families of the Gaussian part, with their report names.
const FAMILIES: [(LoopFamily, &str); 3] = [
    (LoopFamily::FullySynthetic, "fully synthetic"),
    (
        LoopFamily::Augment(SyntheticSource::LastModel),
        "synthetic augmentation",
    ),
    (LoopFamily::Fresh, "fresh data"),
];

/// Sizes of the Gaussian loops.
#[derive(Debug, Clone, Serialize)]
struct GaussianSetup {
    /// Dimension of the real N(0, I).
    dim: usize,
    /// Real points per generation (the fixed set of augmentation, each fresh draw).
    n_real: usize,
    /// Synthetic points per generation.
    n_synthetic: usize,
    /// Real points of generation 1 (fully synthetic and fresh-data loops).
    n_initial: usize,
    /// Generations, the first included.
    generations: usize,
    /// Chains per loop, run together on the GPU.
    chains: usize,
    /// Chains also scored by k-NN metrics and the Fréchet distance.
    scored_chains: usize,
    /// Size of the real reference sample and of each scored generated sample.
    metric_samples: usize,
    /// Neighbours of the k-NN metrics.
    k: usize,
    /// Sampling biases.
    lambdas: Vec<f64>,
    /// Seed of every draw.
    seed: u64,
}

fn gaussian_setup(scale: Scale) -> GaussianSetup {
    let (dim, n_real, n_synthetic, n_initial, generations, chains, scored_chains, metric_samples) =
        match scale {
            Scale::Smoke => (2, 50, 50, 50, 4, 4, 1, 200),
            Scale::Quick => (10, 100, 400, 100, 20, 32, 2, 1000),
            // The original study's fresh-data setting: d = 100, 100 real and 900
            // synthetic points per generation, 1000 real points at first.
            Scale::Paper => (100, 100, 900, 1000, 50, 100, 4, 2000),
        };
    GaussianSetup {
        dim,
        n_real,
        n_synthetic,
        n_initial,
        generations,
        chains,
        scored_chains,
        metric_samples,
        k: 5,
        lambdas: vec![1.0, 0.8],
        seed: 0,
    }
}

impl GaussianSetup {
    fn config(&self, family: LoopFamily, lambda: f64) -> MadConfig {
        MadConfig {
            model: MadModel::Gaussian,
            loop_config: LoopConfig {
                family,
                n_real: self.n_real,
                n_synthetic: self.n_synthetic,
                n_initial: self.n_initial,
                lambda,
                generations: self.generations,
                seed: self.seed,
            },
            chains: self.chains,
            scored_chains: self.scored_chains,
            metric_samples: self.metric_samples,
            k: self.k,
        }
    }
}

/// Sizes of the mixture loop on the 25-mode grid.
#[derive(Debug, Clone, Serialize)]
struct GridSetup {
    /// Points per generation (real in generation 1, synthetic after).
    points: usize,
    /// Generations, the first included.
    generations: usize,
    /// Mixture components fitted each generation.
    components: usize,
    /// Size of the real reference sample and of each scored generated sample.
    metric_samples: usize,
    /// Neighbours of the k-NN metrics.
    k: usize,
    /// Sampling bias.
    lambda: f64,
    /// Seed of every draw.
    seed: u64,
}

fn grid_setup(scale: Scale) -> GridSetup {
    let (points, generations, metric_samples) = match scale {
        Scale::Smoke => (200, 2, 300),
        Scale::Quick => (500, 20, 1000),
        // The original study ran the grid for up to 2000 generations.
        Scale::Paper => (1000, 2000, 2000),
    };
    GridSetup {
        points,
        generations,
        components: 25,
        metric_samples,
        k: 5,
        lambda: 1.0,
        seed: 0,
    }
}

impl GridSetup {
    fn config(&self) -> MadConfig {
        MadConfig {
            model: MadModel::Gmm(GmmOptions {
                components: self.components,
                ..GmmOptions::default()
            }),
            loop_config: LoopConfig {
                family: LoopFamily::FullySynthetic,
                n_real: self.points,
                n_synthetic: self.points,
                n_initial: self.points,
                lambda: self.lambda,
                generations: self.generations,
                seed: self.seed,
            },
            chains: 1,
            scored_chains: 1,
            metric_samples: self.metric_samples,
            k: self.k,
        }
    }
}

fn check_scoring(config: &MadConfig) -> Result<()> {
    config.loop_config.validate()?;
    if config.chains == 0 || config.scored_chains == 0 || config.scored_chains > config.chains {
        return Err(Error::InvalidArgument {
            name: "chains",
            value: format!("{} chains, {} scored", config.chains, config.scored_chains),
            expected: "at least 1 chain and 1 to that many scored chains".to_string(),
        });
    }
    if config.metric_samples <= config.k {
        return Err(Error::InvalidArgument {
            name: "metric_samples",
            value: config.metric_samples.to_string(),
            expected: format!("more samples than k = {} neighbours", config.k),
        });
    }
    Ok(())
}

fn plan_gaussian(scale: Scale) -> Result<serde_json::Value> {
    let setup = gaussian_setup(scale);
    validate_gaussian(&setup)?;
    Ok(serde_json::to_value(&setup).expect("the setup serialises"))
}

fn validate_gaussian(setup: &GaussianSetup) -> Result<()> {
    if setup.dim == 0 {
        return Err(Error::InvalidArgument {
            name: "dim",
            value: "0".to_string(),
            expected: "at least 1 dimension".to_string(),
        });
    }
    for &(family, _) in &FAMILIES {
        for &lambda in &setup.lambdas {
            check_scoring(&setup.config(family, lambda))?;
        }
    }
    Ok(())
}

fn plan_grid(scale: Scale) -> Result<serde_json::Value> {
    let setup = grid_setup(scale);
    validate_grid(&setup)?;
    Ok(serde_json::to_value(&setup).expect("the setup serialises"))
}

fn validate_grid(setup: &GridSetup) -> Result<()> {
    if setup.components == 0 || setup.components > setup.points {
        return Err(Error::InvalidArgument {
            name: "components",
            value: setup.components.to_string(),
            expected: format!(
                "1 to {} components (the points per generation)",
                setup.points
            ),
        });
    }
    check_scoring(&setup.config())
}

/// Averages over chains of one loop, by generation.
struct LoopCurve {
    family: &'static str,
    lambda: f64,
    averages: Vec<GenerationMetrics>,
}

impl LoopCurve {
    fn label(&self) -> String {
        format!("{}, lambda {}", self.family, self.lambda)
    }

    fn first(&self, pick: fn(&GenerationMetrics) -> Option<f64>) -> f64 {
        self.averages.first().and_then(pick).unwrap_or(f64::NAN)
    }

    fn last(&self, pick: fn(&GenerationMetrics) -> Option<f64>) -> f64 {
        self.averages.last().and_then(pick).unwrap_or(f64::NAN)
    }
}

fn run_gaussian(context: &mut StudyContext) -> Result<PartOutput> {
    let setup = gaussian_setup(context.scale);
    validate_gaussian(&setup)?;
    let real = RealDistribution::standard_normal(setup.dim)?;
    let mut curves = Vec::new();
    for &(family, family_name) in &FAMILIES {
        for &lambda in &setup.lambdas {
            context.stage(&format!(
                "Gaussian loop: {family_name}, lambda {lambda}, {} chains",
                setup.chains
            ));
            let config = setup.config(family, lambda);
            let gpu = context.gpu;
            let result = run_mad(gpu, &config, &real, &mut |done, total| {
                context.advance(done, total)
            })?;
            curves.push(LoopCurve {
                family: family_name,
                lambda,
                averages: average_by_generation(&result.rows, setup.generations),
            });
        }
    }

    let mut section = Section::new("Gaussian loops");
    section.paragraph(&format!(
        "Real data N(0, I) in {} dimensions. Generation 1 fits {} real points ({} for synthetic augmentation, its \
         fixed real set); later generations fit {} synthetic points, plus the {} real points of the fixed set \
         (augmentation) or of a fresh draw (fresh data). Each loop runs {} chains for {} generations, and the first {} \
         chain(s) are also scored with k = {} against {} held-out real points. Curves are means over chains.",
        setup.dim,
        setup.n_initial,
        setup.n_real,
        setup.n_synthetic,
        setup.n_real,
        setup.chains,
        setup.generations,
        setup.scored_chains,
        setup.k,
        setup.metric_samples
    ));
    let generations_file = context.table("gaussian_generations")?;
    generations_table(&curves).write_csv(&generations_file.path)?;
    write_gaussian_figures(context, &setup, &curves, &mut section)?;
    let final_table = final_table(&curves, setup.generations);
    let final_file = context.table("gaussian_final")?;
    final_table.write_csv(&final_file.path)?;
    section.table(
        &final_table,
        &final_file,
        &format!(
            "Generation 1 against generation {}: Wasserstein-2 distance to the real distribution, covariance trace \
             relative to generation 1 (for fully synthetic loops E tr Sigma_t = lambda^(t-1) tr Sigma_1 predicts \
             the ratio), precision and recall",
            setup.generations
        ),
    );
    section.file(&generations_file, "every generation's means over chains");

    let loops: Vec<serde_json::Value> = curves
        .iter()
        .map(|curve| {
            serde_json::json!({
                "loop": curve.family,
                "lambda": curve.lambda,
                "generations": curve.averages.iter().map(metrics_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let summary = serde_json::json!({"config": setup, "real": real.describe(), "loops": loops});
    Ok(PartOutput { summary, section })
}

/// Converts the metrics present in `row` to a JSON object, leaving out absent values.
fn metrics_json(row: &GenerationMetrics) -> serde_json::Value {
    let mut fields = serde_json::Map::new();
    fields.insert("generation".to_string(), row.generation.into());
    let values = [
        ("precision", row.precision),
        ("recall", row.recall),
        ("density", row.density),
        ("coverage", row.coverage),
        ("frechet", row.frechet),
        ("wasserstein2", row.wasserstein2),
        ("trace", row.trace),
        ("modes", row.modes.map(|m| m as f64)),
    ];
    for (name, value) in values {
        if let Some(value) = value {
            fields.insert(name.to_string(), value.into());
        }
    }
    serde_json::Value::Object(fields)
}

fn cell(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| decimal(v, 6))
}

fn generations_table(curves: &[LoopCurve]) -> Table {
    let mut table = Table::new(&[
        "loop",
        "lambda",
        "generation",
        "precision",
        "recall",
        "density",
        "coverage",
        "frechet",
        "wasserstein2",
        "trace",
    ]);
    for curve in curves {
        for row in &curve.averages {
            table.push(vec![
                curve.family.to_string(),
                curve.lambda.to_string(),
                row.generation.to_string(),
                cell(row.precision),
                cell(row.recall),
                cell(row.density),
                cell(row.coverage),
                cell(row.frechet),
                cell(row.wasserstein2),
                cell(row.trace),
            ]);
        }
    }
    table
}

fn final_table(curves: &[LoopCurve], generations: usize) -> Table {
    let mut table = Table::new(&[
        "loop",
        "lambda",
        "W2 first",
        "W2 last",
        "trace ratio",
        "predicted ratio",
        "precision last",
        "recall last",
    ]);
    for curve in curves {
        let ratio = curve.last(|r| r.trace) / curve.first(|r| r.trace);
        let predicted = if curve.family == FAMILIES[0].1 {
            decimal(curve.lambda.powi(generations as i32 - 1), 3)
        } else {
            "-".to_string()
        };
        table.push(vec![
            curve.family.to_string(),
            curve.lambda.to_string(),
            decimal(curve.first(|r| r.wasserstein2), 3),
            decimal(curve.last(|r| r.wasserstein2), 3),
            decimal(ratio, 3),
            predicted,
            decimal(curve.last(|r| r.precision), 3),
            decimal(curve.last(|r| r.recall), 3),
        ]);
    }
    table
}

type Series = (String, Vec<(f64, f64)>);

fn curve_series(curves: &[LoopCurve], pick: fn(&GenerationMetrics) -> Option<f64>) -> Vec<Series> {
    curves
        .iter()
        .map(|curve| {
            let points = curve
                .averages
                .iter()
                .filter_map(|row| pick(row).map(|v| (row.generation as f64, v)))
                .collect();
            (curve.label(), points)
        })
        .collect()
}

/// Returns "highest for A (x) and lowest for B (y)" over the curves' last
/// generation, or "x for every loop" when both round to the same value.
fn last_extremes(curves: &[LoopCurve], pick: fn(&GenerationMetrics) -> Option<f64>) -> String {
    let finals: Vec<(String, f64)> = curves
        .iter()
        .map(|curve| (curve.label(), curve.last(pick)))
        .collect();
    let highest = finals
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("six loops");
    let lowest = finals
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("six loops");
    if decimal(highest.1, 3) == decimal(lowest.1, 3) {
        return format!("{} for every loop", decimal(highest.1, 3));
    }
    format!(
        "highest for {} ({}) and lowest for {} ({})",
        highest.0,
        decimal(highest.1, 3),
        lowest.0,
        decimal(lowest.1, 3)
    )
}

fn find_curve<'a>(curves: &'a [LoopCurve], family: &str, lambda: f64) -> Option<&'a LoopCurve> {
    curves
        .iter()
        .find(|curve| curve.family == family && curve.lambda == lambda)
}

fn write_gaussian_figures(
    context: &StudyContext,
    setup: &GaussianSetup,
    curves: &[LoopCurve],
    section: &mut Section,
) -> Result<()> {
    let last = setup.generations;

    let figure = context.figure("gaussian_wasserstein2")?;
    plot::line_chart(
        &figure.path,
        "Wasserstein-2 distance to the real Gaussian (mean over chains)",
        "generation",
        "W2",
        &curve_series(curves, |r| r.wasserstein2),
        true,
    )?;
    section.figure(
        &figure,
        &format!(
            "Exact Wasserstein-2 distance between each generation's Gaussian and the real one: {} in generation 1 \
             for every loop, and after {last} generations {}.",
            decimal(curves[0].first(|r| r.wasserstein2), 3),
            last_extremes(curves, |r| r.wasserstein2)
        ),
    );

    let figure = context.figure("gaussian_trace")?;
    plot::line_chart(
        &figure.path,
        "Trace of the fitted covariance (mean over chains)",
        "generation",
        "trace",
        &curve_series(curves, |r| r.trace),
        true,
    )?;
    let mut trace_caption = format!(
        "Trace of the fitted covariance (the real one is {}).",
        setup.dim
    );
    for &lambda in &setup.lambdas {
        if let Some(curve) = find_curve(curves, FAMILIES[0].1, lambda) {
            trace_caption += &format!(
                " In the fully synthetic loop at lambda {lambda}, generation {last} has {} times the trace of generation 1, \
                 where E tr Sigma_t = lambda^(t-1) tr Sigma_1 predicts {}.",
                decimal(curve.last(|r| r.trace) / curve.first(|r| r.trace), 3),
                decimal(lambda.powi(last as i32 - 1), 3)
            );
        }
    }
    section.figure(&figure, &trace_caption);

    let figure = context.figure("gaussian_precision")?;
    plot::line_chart(
        &figure.path,
        "k-NN precision (mean over scored chains)",
        "generation",
        "precision",
        &curve_series(curves, |r| r.precision),
        false,
    )?;
    section.figure(
        &figure,
        &format!(
            "Precision, the share of generated points inside the real points' k-NN balls: {} in generation 1 at lambda 1, \
             and after {last} generations {}.",
            decimal(curves[0].first(|r| r.precision), 3),
            last_extremes(curves, |r| r.precision)
        ),
    );

    let figure = context.figure("gaussian_recall")?;
    plot::line_chart(
        &figure.path,
        "k-NN recall (mean over scored chains)",
        "generation",
        "recall",
        &curve_series(curves, |r| r.recall),
        false,
    )?;
    section.figure(
        &figure,
        &format!(
            "Recall, the share of real points inside the generated points' k-NN balls: {} in generation 1 at lambda 1, \
             and after {last} generations {}.",
            decimal(curves[0].first(|r| r.recall), 3),
            last_extremes(curves, |r| r.recall)
        ),
    );
    Ok(())
}

fn run_grid(context: &mut StudyContext) -> Result<PartOutput> {
    let setup = grid_setup(context.scale);
    validate_grid(&setup)?;
    let real = RealDistribution::GridMixture;
    context.stage(&format!(
        "mixture loop on the 25-mode grid, {} generations",
        setup.generations
    ));
    let config = setup.config();
    let gpu = context.gpu;
    let result = run_mad(gpu, &config, &real, &mut |done, total| {
        context.advance(done, total)
    })?;
    let averages = average_by_generation(&result.rows, setup.generations);

    let mut section = Section::new("Gaussian mixture on the 25-mode grid");
    section.paragraph(&format!(
        "Real data: 25 equal-weight Gaussians (standard deviation 0.05) centred on {{-4, -2, 0, 2, 4}}^2. Each \
         generation fits a {}-component mixture by EM to {} points (real in generation 1, then samples of the \
         previous mixture with lambda {}) for {} generations. A mode counts as covered when at least 1% of the \
         generated points lie within 3 standard deviations of its centre.",
        setup.components, setup.points, setup.lambda, setup.generations
    ));

    let mut table = Table::new(&[
        "generation",
        "modes",
        "precision",
        "recall",
        "density",
        "coverage",
        "frechet",
    ]);
    for row in &averages {
        table.push(vec![
            row.generation.to_string(),
            row.modes.map_or(String::new(), |m| m.to_string()),
            cell(row.precision),
            cell(row.recall),
            cell(row.density),
            cell(row.coverage),
            cell(row.frechet),
        ]);
    }
    let table_file = context.table("grid_generations")?;
    table.write_csv(&table_file.path)?;

    let (first, last) = (&averages[0], &averages[averages.len() - 1]);
    let modes = |row: &GenerationMetrics| row.modes.map_or("-".to_string(), |m| m.to_string());
    let option = |value: Option<f64>| value.map_or("-".to_string(), |v| decimal(v, 3));
    let single: Vec<LoopCurve> = vec![LoopCurve {
        family: "grid",
        lambda: setup.lambda,
        averages: averages.clone(),
    }];

    let figure = context.figure("grid_modes")?;
    let mode_series: Vec<Series> = curve_series(&single, |r| r.modes.map(|m| m as f64))
        .into_iter()
        .map(|(_, points)| ("modes covered".to_string(), points))
        .collect();
    plot::line_chart(
        &figure.path,
        "Grid modes covered by the samples",
        "generation",
        "modes",
        &mode_series,
        false,
    )?;
    section.figure(&figure, &format!("Modes covered by each generation's samples: {} of 25 in generation 1, {} in generation {}.", modes(first), modes(last), last.generation));

    let figure = context.figure("grid_metrics")?;
    let mut quality = Vec::new();
    for (name, pick) in [
        (
            "precision",
            (|r: &GenerationMetrics| r.precision) as fn(&GenerationMetrics) -> Option<f64>,
        ),
        ("recall", |r| r.recall),
        ("density", |r| r.density),
        ("coverage", |r| r.coverage),
    ] {
        quality.extend(
            curve_series(&single, pick)
                .into_iter()
                .map(|(_, points)| (name.to_string(), points)),
        );
    }
    plot::line_chart(
        &figure.path,
        "k-NN metrics by generation",
        "generation",
        "value",
        &quality,
        false,
    )?;
    section.figure(
        &figure,
        &format!(
            "k-NN metrics against {} real points, generation 1 -> {}: recall {} -> {}, precision {} -> {}, coverage {} -> {}.",
            setup.metric_samples,
            last.generation,
            option(first.recall),
            option(last.recall),
            option(first.precision),
            option(last.precision),
            option(first.coverage),
            option(last.coverage)
        ),
    );

    let figure = context.figure("grid_samples")?;
    draw_samples(&figure.path, &result)?;
    section.figure(
        &figure,
        &format!(
            "Real points (blue) and generated points (orange) in generations 1, {} and {}.",
            result.samples.len().div_ceil(2),
            result.samples.len()
        ),
    );
    section.table(
        &table.excerpt(&excerpt_rows(averages.len())),
        &table_file,
        "Scores of selected generations (every generation in the CSV file)",
    );

    let summary = serde_json::json!({
        "config": setup,
        "real": real.describe(),
        "generations": averages.iter().map(metrics_json).collect::<Vec<_>>(),
    });
    Ok(PartOutput { summary, section })
}

/// Row indices of about ten evenly spaced generations, the first and the last included.
fn excerpt_rows(count: usize) -> Vec<usize> {
    let step = count.div_ceil(10).max(1);
    let mut rows: Vec<usize> = (0..count).step_by(step).collect();
    if rows.last() != Some(&(count - 1)) {
        rows.push(count - 1);
    }
    rows
}

/// Draws the reference sample against chain 0's samples of the first, the
/// middle and the last generation.
fn draw_samples(path: &std::path::Path, result: &MadResult) -> Result<()> {
    let count = result.samples.len();
    let picks = [0, count.div_ceil(2) - 1, count - 1];
    let mut panels_data = Vec::new();
    for &index in &picks {
        let mut points: Vec<f64> = result.reference.iter().map(|&v| f64::from(v)).collect();
        points.extend(result.samples[index].iter().map(|&v| f64::from(v)));
        let mut labels = vec![0u32; result.reference.len() / 2];
        labels.extend(std::iter::repeat_n(1u32, result.samples[index].len() / 2));
        panels_data.push((format!("generation {}", index + 1), points, labels));
    }
    let panels: Vec<ScatterPanel> = panels_data
        .iter()
        .map(|(title, points, labels)| ScatterPanel {
            title,
            points,
            labels,
        })
        .collect();
    plot::scatter_grid(
        path,
        "Samples of the mixture loop",
        &panels,
        3,
        &["real".to_string(), "generated".to_string()],
    )
}
