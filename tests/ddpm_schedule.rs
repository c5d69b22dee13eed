//! DDPM noise schedules against their closed forms and against diffusers.
//!
//! The closed forms are evaluated in float64:
//! - linear: with beta_t = a + d t, alpha_bar_t = prod_{k=0}^{t} (c - d k)
//!   for c = 1 - a, which equals d^{t+1} Gamma(c/d + 1) / Gamma(c/d - t);
//! - cosine: alpha_bar_t = f((t + 1) / T) / f(0) wherever beta is not
//!   clipped at 0.999.
//!
//! scripts/fixtures/ddpm_fixtures.py wrote tests/fixtures/ddpm/ with
//! diffusers' DDPMScheduler, which keeps betas and alphas_cumprod in
//! float32 (cumulative products over 500 float32 factors drift by up to
//! about 500 x 6e-8 = 3e-5 relative, hence the 5e-5 tolerance).

use std::path::PathBuf;

use maso::generative::ddpm::{guidance_from_lambda, NoiseSchedule, ScheduleKind};

fn fixture(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ddpm")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn numbers(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// ln Gamma(x) by Stirling's series; for x > 1000 the first omitted term
/// is below 1e-20.
fn ln_gamma_large(x: f64) -> f64 {
    assert!(
        x > 1000.0,
        "Stirling's series needs a large argument, got {x}"
    );
    let inverse = 1.0 / x;
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + inverse / 12.0
        - inverse.powi(3) / 360.0
        + inverse.powi(5) / 1260.0
}

#[test]
fn linear_alpha_bar_matches_gamma_form() {
    let steps = 500;
    let schedule = NoiseSchedule::new(ScheduleKind::linear(), steps).unwrap();
    let (a, b) = (1e-4, 0.02);
    assert_eq!(schedule.betas()[0], a);
    assert!((schedule.betas()[steps - 1] - b).abs() < 1e-15);
    let slope = (b - a) / (steps - 1) as f64;
    let ratio = (1.0 - a) / slope;
    for (t, &alpha_bar) in schedule.alpha_bars().iter().enumerate() {
        let log_closed = (t + 1) as f64 * slope.ln() + ln_gamma_large(ratio + 1.0)
            - ln_gamma_large(ratio - t as f64);
        let closed = log_closed.exp();
        // ln Gamma values near 2.3e5 cancel; their float64 rounding
        // (about 2.3e5 x 1.1e-16 = 3e-11) bounds the relative error.
        assert!(
            (alpha_bar - closed).abs() <= 1e-9 * closed,
            "t = {t}: cumulative product {alpha_bar}, closed form {closed}"
        );
    }
}

#[test]
fn linear_alphas_are_one_minus_betas() {
    let schedule = NoiseSchedule::new(ScheduleKind::linear(), 37).unwrap();
    let mut product = 1.0;
    for (t, alpha) in schedule.alphas().iter().enumerate() {
        assert_eq!(*alpha, 1.0 - schedule.betas()[t]);
        product *= alpha;
        assert_eq!(schedule.alpha_bars()[t], product);
    }
}

#[test]
fn cosine_alpha_bar_matches_ratio_form() {
    let steps = 500;
    let offset = 0.008;
    let schedule = NoiseSchedule::new(ScheduleKind::cosine(), steps).unwrap();
    let f = |u: f64| {
        ((u + offset) / (1.0 + offset) * std::f64::consts::FRAC_PI_2)
            .cos()
            .powi(2)
    };
    let clipped = schedule
        .betas()
        .iter()
        .position(|&beta| beta >= 0.999)
        .unwrap_or(steps);
    assert_eq!(clipped, steps - 1, "only the last beta reaches the clip");
    for t in 0..clipped {
        let closed = f((t + 1) as f64 / steps as f64) / f(0.0);
        let product = schedule.alpha_bars()[t];
        assert!(
            (product - closed).abs() <= 1e-12 * closed.max(1e-6),
            "t = {t}: cumulative product {product}, closed form {closed}"
        );
    }
    assert_eq!(schedule.betas()[steps - 1], 0.999);
}

#[test]
fn schedules_match_diffusers() {
    let fixture = fixture("schedules.json");
    for (name, kind) in [
        ("linear", ScheduleKind::linear()),
        ("cosine", ScheduleKind::cosine()),
    ] {
        let case = &fixture["cases"][name];
        let schedule = NoiseSchedule::new(kind, 500).unwrap();
        let betas = numbers(&case["betas"]);
        let alpha_bars = numbers(&case["alphas_cumprod"]);
        for t in 0..500 {
            let beta = schedule.betas()[t];
            assert!(
                (beta - betas[t]).abs() <= 1e-6 * beta,
                "{name} beta[{t}]: maso {beta}, diffusers {}",
                betas[t]
            );
            let alpha_bar = schedule.alpha_bars()[t];
            assert!(
                (alpha_bar - alpha_bars[t]).abs() <= 5e-5 * alpha_bar + 1e-9,
                "{name} alpha_bar[{t}]: maso {alpha_bar}, diffusers {}",
                alpha_bars[t]
            );
        }
    }
}

#[test]
fn strided_timesteps_match_diffusers() {
    let fixture = fixture("steps.json");
    for case in fixture["cases"].as_array().unwrap() {
        let kind = ScheduleKind::parse(case["schedule"].as_str().unwrap()).unwrap();
        let schedule = NoiseSchedule::new(kind, 500).unwrap();
        let steps = case["sampling_steps"].as_u64().unwrap() as usize;
        let expected: Vec<usize> = case["timesteps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(schedule.sampling_timesteps(steps).unwrap(), expected);
        let plan = schedule.sampling_plan(steps).unwrap();
        let timestep = case["timestep"].as_u64().unwrap() as usize;
        let step = plan.iter().find(|s| s.timestep == timestep).unwrap();
        let previous = case["previous_timestep"].as_i64().unwrap();
        assert_eq!(step.previous.map_or(-1, |p| p as i64), previous);
    }
}

#[test]
fn full_plan_is_ho_posterior() {
    let schedule = NoiseSchedule::new(ScheduleKind::linear(), 50).unwrap();
    let plan = schedule.sampling_plan(50).unwrap();
    let (betas, alpha_bars) = (schedule.betas(), schedule.alpha_bars());
    for step in &plan {
        let t = step.timestep;
        if t == 0 {
            assert_eq!(step.previous, None);
            assert_eq!(step.sigma, 0.0);
            assert!((step.x0_coefficient - 1.0).abs() < 1e-12);
            assert!(step.xt_coefficient.abs() < 1e-12);
            continue;
        }
        // Ho et al., eq. 7: mean coefficients and the posterior variance.
        let x0 = alpha_bars[t - 1].sqrt() * betas[t] / (1.0 - alpha_bars[t]);
        let xt = (1.0 - betas[t]).sqrt() * (1.0 - alpha_bars[t - 1]) / (1.0 - alpha_bars[t]);
        let variance = (1.0 - alpha_bars[t - 1]) / (1.0 - alpha_bars[t]) * betas[t];
        assert!((step.x0_coefficient - x0).abs() < 1e-12, "t = {t}");
        assert!((step.xt_coefficient - xt).abs() < 1e-12, "t = {t}");
        assert!((step.sigma - variance.sqrt()).abs() < 1e-12, "t = {t}");
    }
}

#[test]
fn lambda_maps_to_guidance() {
    for (lambda, w) in [(1.0, 0.0), (0.8, 0.25), (0.5, 1.0)] {
        assert!((guidance_from_lambda(lambda).unwrap() - w).abs() < 1e-12);
    }
    let w = guidance_from_lambda(0.66).unwrap();
    assert!((1.0 / (1.0 + w) - 0.66).abs() < 1e-12);
    for bad in [0.0, -0.5, 1.5, f64::NAN] {
        let message = guidance_from_lambda(bad).unwrap_err().to_string();
        assert!(message.contains("lambda"), "{message}");
    }
}

#[test]
fn invalid_schedules_are_rejected() {
    let message = NoiseSchedule::new(ScheduleKind::linear(), 1)
        .unwrap_err()
        .to_string();
    assert!(message.contains("diffusion steps T = 1"), "{message}");
    let bad = ScheduleKind::Linear {
        beta_start: 0.0,
        beta_end: 0.02,
    };
    assert!(NoiseSchedule::new(bad, 10).is_err());
    assert!(NoiseSchedule::new(ScheduleKind::Cosine { offset: -1.0 }, 10).is_err());
    let schedule = NoiseSchedule::new(ScheduleKind::cosine(), 10).unwrap();
    for steps in [0, 11] {
        let message = schedule.sampling_plan(steps).unwrap_err().to_string();
        assert!(message.contains("sampling steps"), "{message}");
    }
    let message = ScheduleKind::parse("quadratic").unwrap_err().to_string();
    assert!(message.contains("linear or cosine"), "{message}");
}
