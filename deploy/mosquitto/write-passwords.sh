#!/bin/sh
# Writes mosquitto's password file from the environment at each start, then runs the command
# that follows, if any (compose: the broker itself; Kubernetes: none, in an init container).
#   user ingest:  MQTT_INGEST_PASSWORD  (ingest subscribes)
#   user devices: MQTT_DEVICE_PASSWORD  (devices and the generator publish)
# A user whose password is unset or empty is left out of the file; the broker admits no
# anonymous client (allow_anonymous false in mosquitto.conf), so nobody connects as that user.
# The passwords are hashed (mosquitto_passwd -U) and the file is readable by its owner only.
# Used by deploy/compose/docker-compose.yml and deploy/k8s/25-mosquitto.yaml (through the
# generated ConfigMap mosquitto-config); the image is eclipse-mosquitto (busybox sh).
#   write-passwords.sh FILE [COMMAND [ARGS...]]
set -eu

file="${1:?usage: write-passwords.sh FILE [COMMAND [ARGS...]]}"
shift
umask 077
: >"$file"
users=""

add_user() {
  [ -n "$2" ] || return 0
  # mosquitto_passwd -U reads user:password lines and cuts a password at a further colon.
  case "$2" in
    *:* | *"
"*)
      echo "write-passwords: the password of $1 contains a colon or a line break;" \
        "choose another (e.g. openssl rand -hex 32)" >&2
      exit 1
      ;;
  esac
  # One plain user:password line; mosquitto_passwd -U below replaces each with its hash.
  printf '%s:%s\n' "$1" "$2" >>"$file"
  users="$users $1"
}

add_user ingest "${MQTT_INGEST_PASSWORD:-}"
add_user devices "${MQTT_DEVICE_PASSWORD:-}"
if [ -n "$users" ]; then
  mosquitto_passwd -U "$file"
  echo "write-passwords: $file holds the users:$users" >&2
else
  echo "write-passwords: neither MQTT_INGEST_PASSWORD nor MQTT_DEVICE_PASSWORD is set;" \
    "the broker will refuse every client" >&2
fi

if [ "$#" -gt 0 ]; then
  exec "$@"
fi
