"""The loopback stack's configuration: only receivers' transport and the timing profile change."""

from pathlib import Path

from verification.alerting.loopback import Profile, Target, loopback_alertmanager_config, prometheus_config

E2E = Profile("e2e", "1s", "1s", "1s", "2s", {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"})
PLATFORM = {
    "global": {"smtp_smarthost": "smtp.example.com:587"},
    "route": {
        "receiver": "slack",
        "group_wait": "30s",
        "group_interval": "5m",
        "routes": [
            {
                "receiver": "heartbeat",
                "matchers": ['alertname="Watchdog"'],
                "group_wait": "0s",
                "repeat_interval": "1m",
            },
            {"receiver": "pager", "matchers": ['severity="critical"']},
        ],
    },
    "inhibit_rules": [
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'], "equal": ["app"]}
    ],
    "receivers": [
        {"name": "slack", "slack_configs": [{"api_url_file": "/s", "send_resolved": True}]},
        {"name": "heartbeat", "webhook_configs": [{"url": "https://hb", "send_resolved": True}]},
        {"name": "pager", "pagerduty_configs": [{"routing_key_file": "/k"}]},  # send_resolved not set
        {"name": "blackhole"},
    ],
}


def test_receivers_become_one_webhook_each_keeping_send_resolved() -> None:
    live = loopback_alertmanager_config(PLATFORM, "http://127.0.0.1:9", Path("/tmp/token"), E2E)
    by_name = {r["name"]: r for r in live["receivers"]}
    assert by_name["slack"] == {
        "name": "slack",
        "webhook_configs": [
            {
                "url": "http://127.0.0.1:9/slack",
                "send_resolved": True,
                "http_config": {"authorization": {"credentials_file": "/tmp/token"}},
            }
        ],
    }
    assert by_name["pager"]["webhook_configs"][0]["send_resolved"] is False  # the platform's mistake shows live
    assert by_name["blackhole"] == {"name": "blackhole"}


def test_routing_tree_and_inhibition_are_untouched_except_timings() -> None:
    live = loopback_alertmanager_config(PLATFORM, "http://x", Path("/t"), E2E)
    assert live["inhibit_rules"] == PLATFORM["inhibit_rules"]
    root = live["route"]
    assert (root["group_wait"], root["group_interval"], root["repeat_interval"]) == ("1s", "2s", "1h")
    heartbeat, pager = root["routes"]
    # A route's own timing stays when it is shorter than the profile's: the heartbeat keeps repeating.
    assert heartbeat == {
        "receiver": "heartbeat",
        "matchers": ['alertname="Watchdog"'],
        "group_wait": "0s",
        "repeat_interval": "1m",
    }
    assert pager == {"receiver": "pager", "matchers": ['severity="critical"']}  # inherits, as in the platform
    assert PLATFORM["route"]["group_wait"] == "30s"  # the input is not modified


def test_a_route_slower_than_the_profile_takes_the_profile() -> None:
    slow = {**PLATFORM, "route": {**PLATFORM["route"], "routes": [{"receiver": "pager", "group_wait": "5m",
                                                                     "repeat_interval": "4h"}]}}  # fmt: skip
    (pager,) = loopback_alertmanager_config(slow, "http://x", Path("/t"), E2E)["route"]["routes"]
    assert (pager["group_wait"], pager["repeat_interval"]) == ("1s", "1h")


def test_prometheus_scrapes_each_app_with_the_servicemonitor_labels() -> None:
    target = Target("sample2-app", "staging", "green", "1.2.3", 19100)
    cfg = prometheus_config([target], E2E, Path("/r/rules.yaml"), "127.0.0.1:9093", {"cluster": "devops-platform"})
    assert cfg["global"] == {
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "evaluation_interval": "1s",
        "external_labels": {"cluster": "devops-platform"},
    }
    assert cfg["rule_files"] == ["/r/rules.yaml"]
    (job,) = cfg["scrape_configs"]
    assert job["static_configs"] == [{"targets": ["127.0.0.1:19100"]}]
    labels = {r["target_label"]: r["replacement"] for r in job["relabel_configs"]}
    assert labels == {
        "job": "sample2-app",
        "namespace": "staging",
        "pod": "sample2-app-green-loopback",
        "env": "staging",
        "app": "sample2-app",
        "color": "green",
        "version": "1.2.3",
    }
