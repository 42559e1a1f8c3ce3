"""Fixtures shared by coaching's test modules: a queued publication, a post the checks
block, and a scenario running in the trainee's practice timeline."""

import pytest

from sandbox import services
from tests import builders
from tests.factories import NHS_NUMBER_POST, SCENARIO_SCRIPT


@pytest.fixture
def publication(trainee, coach, account, x_double):
    """An approved post, queued for the X API double; nothing sent yet."""
    return builders.approved(trainee, coach, account, "Flu jabs at Ward 4 today")


@pytest.fixture
def risky(trainee, account):
    """A saved draft with a patient identifier in it: the checks block it."""
    return builders.draft(trainee, account, NHS_NUMBER_POST)


@pytest.fixture
def scenario(coach, organisation):
    return services.scenario_save(
        by=coach,
        organisation_id=organisation.pk,
        title="Clinic rumour",
        description="Correct a rumour.",
        items=services.parse_scenario_script(SCENARIO_SCRIPT),
    )


@pytest.fixture
def run(scenario, trainee, coach):
    return services.scenario_start(scenario=scenario, trainee=trainee, by=coach)


@pytest.fixture
def inject(run):
    """The scenario's first post, which arrives at once."""
    return run.items.get(appear_at=run.started_at)


@pytest.fixture
def other_inject(scenario, other_trainee, coach):
    other_run = services.scenario_start(scenario=scenario, trainee=other_trainee, by=coach)
    return other_run.items.get(appear_at=other_run.started_at)
