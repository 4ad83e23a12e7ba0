#!/bin/sh
# Regenerates this vault-encrypted inventory with ansible-vault itself (ansible-core 2.14).
# Passwords: "alpha" (default ID) and "beta" (vault ID dev).
set -eu
cd "$(dirname "$0")"
printf 'alpha\n' > alpha.pass
printf 'beta\n' > beta.pass
mkdir -p group_vars host_vars
{
	printf 'web:\n  hosts:\n    h1:\n  vars:\n'
	ansible-vault encrypt_string --vault-password-file alpha.pass --name api_key 'k3y' | sed 's/^/    /'
	echo
} > hosts.yml
printf 'from_group: gsecret\n' | ansible-vault encrypt --vault-password-file alpha.pass --output group_vars/web.yml -
printf 'from_host: hsecret\n' | ansible-vault encrypt --vault-id dev@beta.pass --output host_vars/h1.yml -
