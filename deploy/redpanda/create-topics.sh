#!/bin/sh
# Creates Alertron's topics with their partitions on Redpanda (or Kafka), once: compose's
# one-shot init container and the Kubernetes Job run it with the image's rpk. Auto-created
# topics would get one partition, and a second scorer replica would have nothing to do.
# Idempotent: an existing topic is kept (and reported if it has fewer partitions). The scorer's
# state topic is compacted (the latest record of every device is kept) and needs at least as
# many partitions as readings: each device's state lives beside its readings' partition. The
# feedback topic (people's verdicts from Slack) is keyed like readings and anomalies and must
# have as many partitions, so the replica that owns a device reads its verdicts too. The
# notifier's incidents topic is compacted (each incident's Slack message and state).
set -eu

brokers="${BROKERS:-redpanda:9092}"
partitions="${TOPIC_PARTITIONS:-6}"
replicas="${TOPIC_REPLICAS:-1}"
topics="${TOPICS:-readings scored anomalies alertmanager feedback readings.dlq scored.dlq anomalies.dlq feedback.dlq}"
compacted="${COMPACTED_TOPICS:-scorer.state notifier.incidents}"

# The broker may still be starting: wait up to two minutes for it to answer.
tries=0
until rpk cluster info -X brokers="$brokers" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "create-topics: no broker answered at $brokers" >&2
    exit 1
  fi
  sleep 2
done

for topic in $topics $compacted; do
  if rpk topic describe "$topic" -X brokers="$brokers" >/dev/null 2>&1; then
    have=$(rpk topic describe "$topic" -p -X brokers="$brokers" | tail -n +2 | grep -c . || true)
    if [ "$have" -lt "$partitions" ]; then
      echo "create-topics: $topic exists with $have partitions (want $partitions); raise with: rpk topic add-partitions $topic --num $((partitions - have))" >&2
    else
      echo "create-topics: $topic exists ($have partitions)"
    fi
  else
    case " $compacted " in
      *" $topic "*) rpk topic create "$topic" -p "$partitions" -r "$replicas" -c cleanup.policy=compact -X brokers="$brokers" ;;
      *) rpk topic create "$topic" -p "$partitions" -r "$replicas" -X brokers="$brokers" ;;
    esac
  fi
done
echo "create-topics: done"
