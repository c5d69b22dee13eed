//! How well an embedding separates classes and keeps neighbourhoods:
//! leave-one-out k-NN accuracy, silhouette score and trustworthiness.
//! They run in float64 on the host in O(n^2) time, which suits n up to a few
//! thousand.
//!
//! Embeddings are row-major n x `dimensions` f32 arrays, and distances in
//! them are Euclidean. Ties between equal distances go to the point with the
//! smaller index.

use std::collections::BTreeMap;

use crate::embed::DistanceMatrix;
use crate::error::{Error, Result};

/// Leave-one-out accuracy of the k-nearest-neighbour classifier in
/// `embedding`: the fraction of points whose label equals the majority label
/// of their `k` nearest other points.
///
/// A vote tie goes to the smallest label, as in scikit-learn's
/// `KNeighborsClassifier` with uniform weights (1.9.1). Requires
/// 1 <= k <= n - 1.
pub fn knn_accuracy(embedding: &[f32], dimensions: usize, labels: &[u32], k: usize) -> Result<f64> {
    let n = check_embedding(embedding, dimensions, labels.len())?;
    if k == 0 || k >= n {
        return Err(Error::InvalidArgument {
            name: "k",
            value: k.to_string(),
            expected: format!(
                "a number of neighbours in [1, {}] (the other points)",
                n - 1
            ),
        });
    }
    let mut correct = 0usize;
    let mut votes: BTreeMap<u32, usize> = BTreeMap::new();
    for i in 0..n {
        votes.clear();
        for j in nearest_others(n, i, k, |j| squared_distance(embedding, dimensions, i, j)) {
            *votes.entry(labels[j]).or_default() += 1;
        }
        // The map iterates labels in increasing order and `max_by_key` keeps
        // the last maximum, so iterate in reverse to keep the smallest label.
        let predicted = votes
            .iter()
            .rev()
            .max_by_key(|(_, &count)| count)
            .map(|(&label, _)| label);
        if predicted == Some(labels[i]) {
            correct += 1;
        }
    }
    Ok(correct as f64 / n as f64)
}

/// Mean silhouette coefficient of the points in `embedding` under `labels`,
/// as `sklearn.metrics.silhouette_score(X, labels, metric="euclidean")`.
///
/// For point i with a = mean distance to the other points of its class and
/// b = the smallest mean distance to the points of another class, the
/// coefficient is (b - a) / max(a, b); it is 0 for a point alone in its class
/// (and where a = b = 0). Requires between 2 and n - 1 distinct labels.
pub fn silhouette_score(embedding: &[f32], dimensions: usize, labels: &[u32]) -> Result<f64> {
    let n = check_embedding(embedding, dimensions, labels.len())?;
    let classes: Vec<u32> = labels
        .iter()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if classes.len() < 2 || classes.len() >= n {
        return Err(Error::InvalidArgument {
            name: "labels",
            value: format!("{} distinct labels for {n} points", classes.len()),
            expected: format!("between 2 and {} distinct labels", n.saturating_sub(1)),
        });
    }
    let class_of: Vec<usize> = labels
        .iter()
        .map(|label| classes.binary_search(label).unwrap_or(0))
        .collect();
    let mut class_sizes = vec![0usize; classes.len()];
    for &class in &class_of {
        class_sizes[class] += 1;
    }

    let mut total = 0.0;
    let mut distance_sums = vec![0.0f64; classes.len()];
    for i in 0..n {
        distance_sums.fill(0.0);
        for j in 0..n {
            distance_sums[class_of[j]] += squared_distance(embedding, dimensions, i, j).sqrt();
        }
        let own = class_of[i];
        if class_sizes[own] == 1 {
            continue;
        }
        let within = distance_sums[own] / (class_sizes[own] - 1) as f64;
        let nearest_other = (0..classes.len())
            .filter(|&class| class != own)
            .map(|class| distance_sums[class] / class_sizes[class] as f64)
            .fold(f64::INFINITY, f64::min);
        let larger = within.max(nearest_other);
        if larger > 0.0 {
            total += (nearest_other - within) / larger;
        }
    }
    Ok(total / n as f64)
}

/// Trustworthiness of `embedding` with respect to the original distances, as
/// `sklearn.manifold.trustworthiness(D, X_embedded, n_neighbors=k,
/// metric="precomputed")`:
///
/// T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in U_i} max(0, r(i, j) - k),
///
/// where U_i contains the k nearest neighbours of i in the embedding and r(i, j)
/// is the rank of j among the neighbours of i in the original space (1 for
/// the nearest). Requires 1 <= k < n / 2.
pub fn trustworthiness(
    original: &DistanceMatrix,
    embedding: &[f32],
    dimensions: usize,
    n_neighbors: usize,
) -> Result<f64> {
    let n = check_embedding(embedding, dimensions, original.n())?;
    let k = n_neighbors;
    if k == 0 || 2 * k >= n {
        return Err(Error::InvalidArgument {
            name: "n_neighbors",
            value: k.to_string(),
            expected: format!(
                "a number in [1, n / 2) = [1, {}) for n = {n} points",
                n as f64 / 2.0
            ),
        });
    }

    let mut rank_in_original = vec![0usize; n];
    let mut penalty = 0usize;
    for i in 0..n {
        for (rank, j) in nearest_others(n, i, n - 1, |j| f64::from(original.get(i, j)))
            .into_iter()
            .enumerate()
        {
            rank_in_original[j] = rank + 1;
        }
        for j in nearest_others(n, i, k, |j| squared_distance(embedding, dimensions, i, j)) {
            penalty += rank_in_original[j].saturating_sub(k);
        }
    }
    let (n, k) = (n as f64, k as f64);
    Ok(1.0 - penalty as f64 * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))
}

/// Checks that `embedding` contains `n` finite points of `dimensions` coordinates.
fn check_embedding(embedding: &[f32], dimensions: usize, n: usize) -> Result<usize> {
    if dimensions == 0 || n.checked_mul(dimensions) != Some(embedding.len()) {
        return Err(Error::ShapeMismatch {
            operation: "embedding metric",
            message: format!(
                "the embedding has {} values, but {n} points (one per label or distance row) of {dimensions} coordinates need {}",
                embedding.len(),
                n.saturating_mul(dimensions)
            ),
        });
    }
    if n < 2 {
        return Err(Error::InvalidArgument {
            name: "number of points",
            value: n.to_string(),
            expected: "at least 2".to_string(),
        });
    }
    if let Some(index) = embedding.iter().position(|value| !value.is_finite()) {
        return Err(Error::InvalidArgument {
            name: "embedding",
            value: format!(
                "coordinate {} of point {} = {}",
                index % dimensions,
                index / dimensions,
                embedding[index]
            ),
            expected: "finite coordinates".to_string(),
        });
    }
    Ok(n)
}

fn squared_distance(embedding: &[f32], dimensions: usize, i: usize, j: usize) -> f64 {
    let (a, b) = (
        &embedding[i * dimensions..(i + 1) * dimensions],
        &embedding[j * dimensions..(j + 1) * dimensions],
    );
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum()
}

/// Returns the `count` points other than `i` that are nearest by
/// `distance`, nearest first. Equal distances keep index order.
fn nearest_others(n: usize, i: usize, count: usize, distance: impl Fn(usize) -> f64) -> Vec<usize> {
    let mut others: Vec<(f64, usize)> = (0..n)
        .filter(|&j| j != i)
        .map(|j| (distance(j), j))
        .collect();
    others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    others.truncate(count);
    others.into_iter().map(|(_, j)| j).collect()
}
