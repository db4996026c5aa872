import pytest

from berth import images, releases
from berth.errors import NotFound, ValidationError
from berth.models import Release


def rel(version, status="succeeded", image=None):
    return Release(app="a", version=version, image=image or f"img{version}", git_sha=None,
                   config={}, processes={}, formation={}, app_json={}, port=None,
                   description="", status=status, created_at=0.0)


RELS = [rel(1), rel(2, "failed"), rel(3), rel(4, image="img3"), rel(5)]


def test_parse_version():
    assert releases.parse_version("v12") == 12
    assert releases.parse_version("3") == 3
    for bad in ("v0", "x", "v-1", "1;id", ""):
        with pytest.raises(ValidationError, match="use vN"):
            releases.parse_version(bad)


def test_default_target_is_the_previous_succeeded_release():
    assert releases.rollback_target(RELS, 5, None).version == 4
    assert releases.rollback_target(RELS, 3, None).version == 1  # v2 failed


def test_rollback_target_errors():
    with pytest.raises(NotFound, match="no succeeded release before v1"):
        releases.rollback_target(RELS, 1, None)
    with pytest.raises(NotFound, match="v9 does not exist"):
        releases.rollback_target(RELS, 5, 9)
    with pytest.raises(ValidationError, match="current release already"):
        releases.rollback_target(RELS, 5, 5)
    with pytest.raises(ValidationError, match="never deployed successfully"):
        releases.rollback_target(RELS, 5, 2)
    with pytest.raises(ValidationError, match="nothing is deployed"):
        releases.rollback_target([], None, None)


def test_keep_counts_distinct_images_of_succeeded_releases():
    # newest succeeded distinct: img5, img3 (v4 and v3 share it)
    assert images.keep(RELS, 5, 2) == {"img5", "img3"}
    assert images.keep(RELS, 5, 3) == {"img5", "img3", "img1"}


def test_keep_always_has_the_running_image_and_the_rollback_target():
    # retain 1: img5 (running, newest) + v4's img3 (the default rollback target)
    assert images.keep(RELS, 5, 1) == {"img5", "img3"}
    # after a rollback to v1 (v6 runs img1): the previous succeeded release is v5
    rolled = [*RELS, rel(6, image="img1")]
    assert images.keep(rolled, 6, 1) == {"img1", "img5"}
