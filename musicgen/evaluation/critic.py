"""The style critic: a genre classifier of whole pieces, trained only on real training pieces.

Torch-free (numpy only). The critic standardises each piece's feature vector
(``critic_features.FeatureSpace``: rhythm within the bar, metre, melody, pitch classes from the
tonic, polyphony, phrase and cadence shape) and applies a multinomial logistic regression, fitted
on the dataset's *train* split with class-balanced weights and an L2 penalty. It never sees a
generated piece, so its verdict on one is an independent opinion of its style:

* ``StyleCritic.predict_proba(pieces)`` -> (N, G) genre probabilities;
* ``StyleCritic.style_fit(piece, genre)`` -> the probability of the intended genre (0..1);
* ``real_vs_generated_accuracy(real, generated)`` -> how well a classifier on the same features,
  cross-validated, tells generated pieces from real ones of one genre (0.5 = it cannot).

A critic file is JSON (vocabularies, standardisation and coefficients; no pickle). ``load_critic``
keeps one per dataset in the user cache folder, keyed by the dataset's fingerprint, and trains it
on first use (about 15 s for the committed corpus on one core).
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..files.writing import atomic_write_bytes
from .critic_features import FeatureSpace, fit_feature_space

CRITIC_FORMAT = "musicgen-critic"
CRITIC_VERSION = 2  # (2: the critic listens, ``listening``) bump when the features or the fit change: cached critics of older versions are retrained
L2_PENALTY = 1e-2  # on the standardised weights, per unit of mean loss (chosen on the valid split)
FIT_STEPS = 800  # full-batch Adam steps; the loss is convex, so this is a converged fit
LEARNING_RATE = 0.05
ADAM_BETAS = (0.9, 0.999)
CV_FOLDS = 5  # folds of the real-vs-generated test
CV_SEED = 0
MIN_PIECES_PER_SIDE = 2  # fewer real or generated pieces than this: no real-vs-generated verdict
MAX_BEST_OF = 64  # candidates per piece for best-of-N
# Candidate k of a piece planned with seed s gets seed s + k * CANDIDATE_SEED_STEP: above any planned
# batch seed and any --max-copied resample (originality.RESAMPLE_SEED_STEP steps), so never one of them.
CANDIDATE_SEED_STEP = 100_000_000


@dataclass
class StyleCritic:
    """A fitted critic: ``weights`` (D, G) and ``bias`` (G,) act on ``(features - mean) / scale``."""

    genre_keys: list[str]
    space: FeatureSpace
    mean: np.ndarray  # (D,)
    scale: np.ndarray  # (D,), no zeros
    weights: np.ndarray  # (D, G)
    bias: np.ndarray  # (G,)
    info: dict = field(default_factory=dict)  # training data and time, for the record

    def features(self, pieces) -> np.ndarray:
        """Raw feature vectors of ``pieces``: (N, D)."""
        return self.space.matrix(pieces)

    def proba_from_features(self, features: np.ndarray) -> np.ndarray:
        """Genre probabilities (N, G) from raw feature vectors (N, D)."""
        return _softmax(((features - self.mean) / self.scale) @ self.weights + self.bias)

    def predict_proba(self, pieces) -> np.ndarray:
        """Genre probabilities of ``pieces``: (N, G), columns in the order of ``genre_keys``."""
        return self.proba_from_features(self.features(pieces))

    def predict(self, pieces) -> list[str]:
        """The most likely genre key of each piece."""
        return [self.genre_keys[i] for i in self.predict_proba(pieces).argmax(1)]

    def genre_weights(self, genre: str) -> np.ndarray:
        """Weights (G,) of a genre spec ("reel" or a blend "bach=0.7,reel=0.3"); ValueError if unknown."""
        from ..genres import parse_genre_spec

        try:
            spec = parse_genre_spec(genre, self.genre_keys)
        except ValueError:
            raise ValueError(
                f"genre '{genre}' is not one the style critic knows ({', '.join(self.genre_keys)})"
            ) from None
        return np.array([spec.get(key, 0.0) for key in self.genre_keys])

    def style_fits(self, pieces, genres: list[str]) -> list[float]:
        """Style fit of each piece for its intended genre (spec): the probability of that genre, 0..1;
        for a blend, the blend's weighted sum of its genres' probabilities."""
        if len(pieces) != len(genres):
            raise ValueError(f"{len(pieces)} pieces but {len(genres)} genres")
        if not pieces:
            return []
        weights = np.stack([self.genre_weights(genre) for genre in genres])  # (N, G)
        return [float(f) for f in (self.predict_proba(pieces) * weights).sum(1)]

    def style_fit(self, piece, genre: str) -> float:
        """The probability (0..1) the critic gives to ``genre`` (a key or a blend) for ``piece``."""
        return self.style_fits([piece], [genre])[0]

    def to_dict(self) -> dict:
        """Everything that defines the critic, as JSON-able values (floats round-trip exactly)."""
        return {
            "format": CRITIC_FORMAT,
            "version": CRITIC_VERSION,
            "genres": list(self.genre_keys),
            "bar_vocabulary": list(self.space.bar_vocabulary),
            "beat_vocabulary": list(self.space.beat_vocabulary),
            "listening": self.space.listening,
            "feature_names": self.space.names,
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
            "info": self.info,
        }

    def save(self, path) -> Path:
        """Write the critic as one JSON file (atomically); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict())
        atomic_write_bytes(path, lambda temp: Path(temp).write_text(text, encoding="utf-8"))
        return path

    @classmethod
    def from_dict(cls, data: dict) -> "StyleCritic":
        """Rebuild a critic from ``to_dict``'s values; ValueError naming what is wrong."""
        if not isinstance(data, dict) or data.get("format") != CRITIC_FORMAT:
            raise ValueError("not a musicgen style-critic file")
        if data.get("version") != CRITIC_VERSION:
            raise ValueError(
                f"style-critic file of version {data.get('version')}, this musicgen reads version {CRITIC_VERSION}"
            )
        try:
            space = FeatureSpace(
                [str(p) for p in data["bar_vocabulary"]],
                [str(p) for p in data["beat_vocabulary"]],
                bool(data.get("listening", True)),
            )
            arrays = {name: np.asarray(data[name], dtype=np.float64) for name in ("mean", "scale", "weights", "bias")}
            genres = [str(key) for key in data["genres"]]
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"style-critic file is damaged ({error})") from None
        size, count = space.size, len(genres)
        shapes = {"mean": (size,), "scale": (size,), "weights": (size, count), "bias": (count,)}
        for name, shape in shapes.items():
            if arrays[name].shape != shape:
                raise ValueError(f"style-critic file is damaged ({name} has shape {arrays[name].shape}, not {shape})")
        if not all(np.isfinite(a).all() for a in arrays.values()) or (arrays["scale"] <= 0).any():
            raise ValueError("style-critic file is damaged (non-finite or zero numbers)")
        return cls(
            genres,
            space,
            arrays["mean"],
            arrays["scale"],
            arrays["weights"],
            arrays["bias"],
            dict(data.get("info") or {}),
        )

    @classmethod
    def load(cls, path) -> "StyleCritic":
        """Read a critic written by ``save``; ValueError if missing, damaged or of another version."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ValueError(f"{path}: cannot read the style critic ({error.strerror or error})") from None
        except json.JSONDecodeError:
            raise ValueError(f"{path}: style-critic file is not JSON") from None
        try:
            return cls.from_dict(data)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None


# --- fitting -----------------------------------------------------------------------------------------


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(1, keepdims=True)


def standardiser(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (N, D) -> (D,), (D,); constant columns get scale 1."""
    mean = features.mean(0)
    scale = features.std(0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def fit_softmax(
    inputs: np.ndarray, labels: np.ndarray, classes: int, l2: float = L2_PENALTY, steps: int = FIT_STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression on standardised ``inputs`` (N, D) with integer ``labels`` (N,).

    Minimises the class-balanced mean cross-entropy + l2/2 * |W|^2 by full-batch Adam from zero
    weights (deterministic). Returns weights (D, classes) and bias (classes,).
    """
    count, size = inputs.shape
    targets = np.eye(classes)[labels]  # (N, G)
    per_class = np.bincount(labels, minlength=classes).astype(float)
    sample_weight = (1.0 / np.maximum(per_class, 1))[labels]
    sample_weight /= sample_weight.sum()  # every class weighs the same in the loss
    params = [np.zeros((size, classes)), np.zeros(classes)]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    beta1, beta2 = ADAM_BETAS
    for step in range(1, steps + 1):
        error = (_softmax(inputs @ params[0] + params[1]) - targets) * sample_weight[:, None]  # (N, G)
        grads = [inputs.T @ error + l2 * params[0], error.sum(0)]
        for param, grad, moment, square in zip(params, grads, moments, squares):
            moment *= beta1
            moment += (1 - beta1) * grad
            square *= beta2
            square += (1 - beta2) * grad * grad
            param -= LEARNING_RATE * (moment / (1 - beta1**step)) / (np.sqrt(square / (1 - beta2**step)) + 1e-8)
    return params[0], params[1]


def fit_critic(pieces, labels, genre_keys: list[str], info: dict | None = None, listening: bool = True) -> StyleCritic:
    """A critic fitted on ``pieces`` with genre indices ``labels`` (into ``genre_keys``); ``listening``:
    features of the pieces as heard (the default) or as notated."""
    labels = np.asarray(labels, dtype=np.int64)
    missing = [key for g, key in enumerate(genre_keys) if not np.any(labels == g)]
    if missing:
        raise ValueError(f"no training pieces for genre(s) {', '.join(missing)}: cannot train a style critic")
    space = fit_feature_space(pieces, listening)
    features = space.matrix(pieces)
    mean, scale = standardiser(features)
    weights, bias = fit_softmax((features - mean) / scale, labels, len(genre_keys))
    return StyleCritic(list(genre_keys), space, mean, scale, weights, bias, dict(info or {}))


def dataset_pieces(dataset, split: str, genre: int | None = None) -> list:
    """Decoded pieces of one split (and optionally one genre index) of a dataset."""
    from ..tokens.codec import tokens_to_piece

    return [tokens_to_piece(dataset.piece_tokens(i)) for i in dataset.indices(split, genre)]


def train_critic(dataset, listening: bool = True) -> StyleCritic:
    """Train a critic on the *train* split of a loaded ``Dataset`` (real pieces only)."""
    started = time.time()
    indices = dataset.indices("train")
    pieces = dataset_pieces(dataset, "train")
    labels = dataset.genre[indices].astype(np.int64)
    info = {"dataset_fingerprint": dataset.fingerprint, "split": "train", "pieces": len(pieces)}
    critic = fit_critic(pieces, labels, dataset.genre_keys, info, listening)
    critic.info["train_seconds"] = round(time.time() - started, 1)
    return critic


# --- the per-dataset cache ---------------------------------------------------------------------------


def critic_cache_dir() -> Path:
    """The user cache folder for critics (``paths.user_cache_dir``: ``$XDG_CACHE_HOME/musicgen``, else the
    platform's, e.g. ``~/.cache/musicgen``)."""
    from ..paths import user_cache_dir

    return user_cache_dir()


def critic_cache_path(dataset, listening: bool = True) -> Path:
    """Where the critic of ``dataset`` is cached (by its fingerprint and the critic version)."""
    kind = "" if listening else "-notated"
    return critic_cache_dir() / f"critic-{dataset.fingerprint}-v{CRITIC_VERSION}{kind}.json"


def load_critic(dataset_path=None, *, dataset=None, listening: bool = True) -> StyleCritic:
    """The critic of a dataset (default: the committed corpus): from the cache, else trained and cached.

    Give a dataset folder as ``dataset_path`` or an already loaded ``Dataset`` as ``dataset``. A damaged
    cache file is retrained (with a warning); a cache folder that cannot be written only warns.
    """
    if dataset is None:
        from ..paths import DEFAULT_DATASET
        from ..training.dataset import load_dataset

        dataset = load_dataset(dataset_path or DEFAULT_DATASET)
    path = critic_cache_path(dataset, listening)
    if path.is_file():
        try:
            critic = StyleCritic.load(path)
            if critic.genre_keys == dataset.genre_keys and critic.space.listening == listening:
                return critic
        except ValueError as error:
            warnings.warn(f"retraining the style critic: {error}", stacklevel=2)
    critic = train_critic(dataset, listening)
    try:
        critic.save(path)
    except OSError as error:
        warnings.warn(f"{path}: cannot cache the style critic ({error.strerror or error})", stacklevel=2)
    return critic


# --- judging generated pieces ------------------------------------------------------------------------


def confusion(probabilities: np.ndarray, true: list[int], genre_keys: list[str]) -> dict:
    """Confusion of the critic's choices: ``matrix`` (G, G) counts (rows: true genre), per-genre
    ``recall`` (None for a genre without pieces), ``overall`` accuracy and ``mean_recall``."""
    count = len(genre_keys)
    matrix = np.zeros((count, count), dtype=np.int64)
    chosen = probabilities.argmax(1) if len(probabilities) else np.zeros(0, dtype=np.int64)
    for row, column in zip(true, chosen):
        matrix[row, column] += 1
    totals = matrix.sum(1)
    recall = {key: (float(matrix[g, g] / totals[g]) if totals[g] else None) for g, key in enumerate(genre_keys)}
    known = [value for value in recall.values() if value is not None]
    return {
        "labels": list(genre_keys),
        "matrix": matrix.tolist(),
        "recall": recall,
        "overall": float(np.trace(matrix) / max(1, totals.sum())) if totals.sum() else None,
        "mean_recall": float(np.mean(known)) if known else None,
    }


def stratified_folds(labels: np.ndarray, folds: int, seed: int = CV_SEED) -> np.ndarray:
    """Fold number (0..folds-1) of each sample, each class spread evenly over the folds (seeded)."""
    rng = np.random.default_rng(seed)
    assignment = np.zeros(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        assignment[members[rng.permutation(len(members))]] = np.arange(len(members)) % folds
    return assignment


def real_vs_generated_accuracy(
    real_pieces, generated_pieces, space: FeatureSpace | None = None, folds: int = CV_FOLDS, seed: int = CV_SEED
) -> float:
    """Cross-validated balanced accuracy of telling ``generated_pieces`` from ``real_pieces`` (0..1).

    A logistic regression on the critic's features (``space``; default: vocabularies fitted on the real
    pieces) is trained on all folds but one and tested on the one left out; the score is the mean of the
    recalls of the two sides, so 0.5 means it cannot tell them apart, whatever the sizes. NaN when a
    side has fewer than MIN_PIECES_PER_SIDE pieces.
    """
    real_pieces, generated_pieces = list(real_pieces), list(generated_pieces)
    if min(len(real_pieces), len(generated_pieces)) < MIN_PIECES_PER_SIDE:
        return float("nan")
    space = space or fit_feature_space(real_pieces)
    features = space.matrix(real_pieces + generated_pieces)
    labels = np.r_[np.zeros(len(real_pieces), dtype=np.int64), np.ones(len(generated_pieces), dtype=np.int64)]
    folds = max(2, min(folds, len(real_pieces), len(generated_pieces)))
    assignment = stratified_folds(labels, folds, seed)
    predicted = np.zeros(len(labels), dtype=np.int64)
    for fold in range(folds):
        train, test = assignment != fold, assignment == fold
        mean, scale = standardiser(features[train])
        weights, bias = fit_softmax((features[train] - mean) / scale, labels[train], 2)
        predicted[test] = (((features[test] - mean) / scale) @ weights + bias).argmax(1)
    return float(np.mean([np.mean(predicted[labels == side] == side) for side in (0, 1)]))


def critic_for_model(loaded, dataset_path=None) -> StyleCritic:
    """The critic for a model's genres: that of ``dataset_path``, else of the dataset the model was trained
    on (its card's path, when that folder is here), else of the committed corpus; ValueError when its
    genres are not the model's."""
    if dataset_path is None:
        from ..paths import DEFAULT_DATASET

        recorded = (loaded.card.get("dataset") or {}).get("path")
        dataset_path = recorded if recorded and Path(recorded).is_dir() else DEFAULT_DATASET
    critic = load_critic(dataset_path)
    if critic.genre_keys != list(loaded.genre_keys):
        raise ValueError(
            f"the style critic of {dataset_path} knows the genres {', '.join(critic.genre_keys)}, "
            f"not the model's ({', '.join(loaded.genre_keys)}); name the model's dataset"
        )
    return critic


# --- best of N ---------------------------------------------------------------------------------------


def candidate_seeds(seed: int, count: int) -> list[int]:
    """Seeds of the ``count`` candidates of a piece planned with ``seed`` (the first is ``seed`` itself)."""
    from ..limits import MAX_SEED

    return [(seed + k * CANDIDATE_SEED_STEP) % (MAX_SEED + 1) for k in range(count)]


def best_of(generate_batch, critic: StyleCritic, count: int):
    """Wrap ``generate_batch`` (requests -> GeneratedPieces): each request is sampled ``count`` times
    (``candidate_seeds``) in one batch and the candidate with the highest style fit for the request's
    genre is kept (the first one on a tie), its ``style_fit`` filled in."""
    if not 1 <= count <= MAX_BEST_OF:
        raise ValueError(f"--best-of must be between 1 and {MAX_BEST_OF}, got {count}")

    def generate(requests: list) -> list:
        candidates = [r.with_seed(seed) for r in requests for seed in candidate_seeds(r.seed, count)]
        pieces = generate_batch(candidates)
        fits = critic.style_fits([p.piece for p in pieces], [r.genre for r in candidates])
        kept = []
        for first in range(0, len(candidates), count):
            best = max(range(first, first + count), key=lambda j: (fits[j], -j))
            pieces[best].style_fit = fits[best]
            kept.append(pieces[best])
        return kept

    return generate
