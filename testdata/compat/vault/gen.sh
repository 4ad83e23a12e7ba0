#!/bin/sh
# Regenerates the vault fixtures of the compat suite with ansible-vault itself (ansible-core
# 2.14): vars.yml holds the !vault values the playbooks paste in (vault.yml).
# Passwords: "alpha" (alpha.pass, and pass.sh prints it), "beta" (beta.pass, vault ID dev).
set -eu
cd "$(dirname "$0")"
printf 'alpha\n' > alpha.pass
printf 'beta\n' > beta.pass
printf '#!/bin/sh\necho alpha\n' > pass.sh
chmod +x pass.sh
enc() { out=$1; shift; ansible-vault encrypt --output "$out" "$@" -; }
printf 'file_secret: from a vault file\n' | enc secret_vars.yml --vault-password-file alpha.pass
printf 'extra_secret: from -e @file\n' | enc extra_vars.yml --vault-id dev@beta.pass
printf 'line one\nline two\n' | enc secret.txt --vault-password-file alpha.pass
printf 'vaulted for lookups\n' | enc ../files/lookup/vaulted.txt --vault-password-file alpha.pass
{
	ansible-vault encrypt_string --vault-password-file alpha.pass --name inline11 'v1.1 value'
	echo
	ansible-vault encrypt_string --vault-id dev@beta.pass --name inline12 'v1.2 value'
	echo
} > vars.yml
