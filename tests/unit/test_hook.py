import pytest

from berth.errors import BerthError
from berth.hook import ZERO, plan

A, B = "a" * 40, "b" * 40


def test_first_push_of_main_deploys():
    assert plan([(ZERO, A, "refs/heads/main")], None) == ("main", A, [])


def test_master_also_default():
    assert plan([(ZERO, A, "refs/heads/master")], None)[:2] == ("master", A)


def test_other_branches_accepted_without_deploying():
    branch, sha, msgs = plan([(ZERO, A, "refs/heads/feature")], "main")
    assert (branch, sha) == (None, None)
    assert "not deploying" in msgs[0] and "main" in msgs[0]


def test_configured_branch_wins():
    assert plan([(A, B, "refs/heads/main"), (ZERO, A, "refs/heads/prod")], "prod")[:2] == \
        ("prod", A)


def test_deleting_the_deploy_branch_is_refused():
    with pytest.raises(BerthError, match="refusing to delete"):
        plan([(A, ZERO, "refs/heads/main")], "main")


def test_tags_pass():
    assert plan([(ZERO, A, "refs/tags/v1")], "main")[0] is None
