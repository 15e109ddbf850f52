#!/usr/bin/env bash
# cfn-lint over every CloudFormation template the project ships: serverless.yml as `osls package`
# compiles it for the dev and the prod stage, and each CloudFormation template in infra/.
# Fails on any cfn-lint error (or a template cfn-lint cannot read); warnings are printed only.
#
# Needs cfn-lint on PATH (CI and these machines have 1.51.0; it is a Python tool, so it is not in
# package.json and no test runs it). Packaging is offline: no AWS credentials, an empty HOME.
# Do not run it while `npm test` packages the service: both use the .esbuild work folder.
#   scripts/lint-templates.sh            # packages into a temporary folder, removed afterwards
#   LINT_OUTPUT=dir scripts/lint-templates.sh   # keeps the packaged templates in dir/<stage>/
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v cfn-lint >/dev/null; then
  echo "lint-templates: cfn-lint is not on PATH (CI installs 1.51.0)" >&2
  exit 2
fi

if [[ -n "${LINT_OUTPUT:-}" ]]; then
  output="$LINT_OUTPUT"
  mkdir -p "$output"
else
  output="$(mktemp -d)"
  trap 'rm -rf "$output"' EXIT
fi

templates=()
for stage in dev prod; do
  home="$(mktemp -d)"
  # Only PATH and a fresh HOME: no AWS_* variables, no ~/.aws, as on a machine with no AWS access.
  if ! env -i PATH="$PATH" HOME="$home" node node_modules/osls/bin/serverless.js package \
      --stage "$stage" --package "$output/$stage" >"$output/package-$stage.log" 2>&1; then
    cat "$output/package-$stage.log" >&2
    echo "lint-templates: osls package --stage $stage failed" >&2
    rm -rf "$home"
    exit 1
  fi
  rm -rf "$home"
  templates+=("$output/$stage/cloudformation-template-update-stack.json")
done

# infra/ also holds files that are not templates (the Lambda trust policy serverless.yml includes).
for file in infra/*.yml infra/*.yaml; do
  [[ -f "$file" ]] && grep -q '^AWSTemplateFormatVersion:' "$file" && templates+=("$file")
done

failed=0
for template in "${templates[@]}"; do
  cfn-lint --format parseable -- "$template"
  status=$?
  # cfn-lint's exit status is a bit mask: 1 fatal, 2 error, 4 warning, 8 informational.
  errors=$(( status & 3 ))
  echo "lint-templates: ${template#"$output"/}: $([[ $errors -ne 0 ]] && echo ERRORS || echo ok)$([[ $(( status & 4 )) -ne 0 ]] && echo ' (warnings)')"
  [[ $errors -ne 0 ]] && failed=1
done
exit "$failed"
