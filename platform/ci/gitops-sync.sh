#!/bin/sh
# The --sync-command of `platform-verify bluegreen ... --source gitops` in the deploy jobs: the
# orchestrator has written platform/environments/ENV/APP.yaml (new tag or new active colour);
# commit it to the branch ArgoCD tracks for ENV and ask ArgoCD to sync exactly that revision.
#   [skip ci]: the values commit must not start another pipeline (it would deploy again).
#   GITOPS_PUSH_TOKEN: a project access token allowed to push to develop and main (protected).
#   ARGOCD_SERVER, ARGOCD_AUTH_TOKEN: the API token of ArgoCD's local account `gitlab-ci`
#     (platform/argocd-install/values.yaml), role:release-manager in argocd-rbac-cm. Masked
#     and protected CI/CD variables, so only jobs of protected branches see them.
# The orchestrator then waits for the rollout and verifies the Services itself.
set -eu
: "${BLUEGREEN_APP:?}" "${BLUEGREEN_ENV:?}" "${BLUEGREEN_VALUES_FILE:?}" "${BLUEGREEN_ACTIVE_COLOR:?}"
: "${GITOPS_PUSH_TOKEN:?}" "${ARGOCD_SERVER:?}" "${ARGOCD_AUTH_TOKEN:?}" "${CI_COMMIT_BRANCH:?}"

git config user.name "GitLab CI"
git config user.email "gitlab-ci@${CI_SERVER_HOST:-gitlab.example.com}"
git add "$BLUEGREEN_VALUES_FILE"
if ! git diff --cached --quiet; then
  git commit -q -m "bluegreen: $BLUEGREEN_APP in $BLUEGREEN_ENV, active $BLUEGREEN_ACTIVE_COLOR [skip ci]"
  git push -q "https://gitops:${GITOPS_PUSH_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.git" "HEAD:${CI_COMMIT_BRANCH}"
fi
revision=$(git rev-parse HEAD)
curl --fail-with-body --silent --show-error -X POST \
  -H "Authorization: Bearer ${ARGOCD_AUTH_TOKEN}" -H "Content-Type: application/json" \
  -d "{\"revision\": \"${revision}\", \"prune\": true}" \
  "${ARGOCD_SERVER%/}/api/v1/applications/${BLUEGREEN_APP}-${BLUEGREEN_ENV}/sync" >/dev/null
echo "gitops-sync: ${BLUEGREEN_APP}-${BLUEGREEN_ENV} syncing ${revision}"
