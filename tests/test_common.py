"""scikit-learn's estimator checks, run on the classifier."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import ScratchMLPClassifier


@parametrize_with_checks(
    [
        ScratchMLPClassifier(),
        ScratchMLPClassifier(
            solver="adam", alpha=1e-3, clip_mode="global", max_grad_norm=1.0
        ),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
