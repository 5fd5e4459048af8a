"""The API's OpenAPI schema, fuzzed by schemathesis: 100 generated requests per operation
(500 in all), as a coordinator (who may take most steps); none may end in a server error."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from webworld import build

from rectify.web.app import create_app

PER_OPERATION = 100


def test_no_generated_request_is_a_server_error(fresh_db):
    world = build(fresh_db)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(url=fresh_db, as_of="2016-08-23 10:00"))
    headers = {"Authorization": f"Bearer {world.tokens[world.coordinator]}"}
    sent: dict[str, int] = {}

    def fuzzer(operation):
        @given(case=operation.as_strategy())
        @settings(max_examples=PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            sent[operation.label] = sent.get(operation.label, 0) + 1

        return fuzz

    for result in schema.get_all_operations():
        fuzzer(result.ok())()
    assert len(sent) == 6 and sum(sent.values()) >= 6 * PER_OPERATION * 0.9, sent
