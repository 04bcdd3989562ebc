#!/usr/bin/env bash
# Deploys bicep/main.bicep to a resource group with the Azure CLI: prerequisites, what-if, then create; then builds
# the router image into the deployed registry with ACR Tasks on its in-VNet agent pool and prints it by digest. The
# same az calls as `npx kars deploy` (cli/commands/deploy.ts, deploy-image.ts). Nothing secret passes through here: the template takes no secret
# parameter, its outputs carry none, and the script never traces (no set -x) or prints its environment.
# Only bash builtins besides az, so it behaves the same with a minimal PATH.
set -euo pipefail
set +x

usage() {
  cat <<'EOF'
usage: bicep/deploy.sh --resource-group <name> --location <region> [--what-if] [--parameters <file.json> ...]
                       [--name <deployment>] [--yes] [--skip-image] [--image-tag <tag>] [--source <dir>]
  --resource-group, -g  target resource group (created when missing, unless --what-if)
  --location, -l        Azure region (e.g. westeurope)
  --what-if             preview the changes and stop
  --yes, -y             deploy after the what-if without asking (CI); otherwise the terminal is asked, and
                        without one nothing is deployed
  --parameters, -p      ARM parameters file (repeatable); never put secrets in it: the template takes none
  --name, -n            deployment name (default kars)
  --skip-image          deploy only; do not build the router image
  --image-tag           tag of the router image build (default: UTC yyyymmdd-HHMMSS); it is printed by digest
  --source              build context holding sandbox-node/router/Dockerfile (default: this repository)
exit codes: 0 deployed (or previewed), 1 az reported a failure, 2 usage or a missing prerequisite,
            3 the what-if was not confirmed (nothing deployed)
EOF
}

fail_usage() {
  echo "deploy.sh: $1" >&2
  usage >&2
  exit 2
}

resource_group=""
location=""
name="kars"
what_if_only=0
assume_yes=0
parameter_files=()
build_image=1
image_tag=""
source_dir=""

while [ $# -gt 0 ]; do
  case "$1" in
    -g|--resource-group) [ $# -ge 2 ] || fail_usage "$1 needs a value"; resource_group="$2"; shift 2 ;;
    -l|--location) [ $# -ge 2 ] || fail_usage "$1 needs a value"; location="$2"; shift 2 ;;
    -n|--name) [ $# -ge 2 ] || fail_usage "$1 needs a value"; name="$2"; shift 2 ;;
    -p|--parameters) [ $# -ge 2 ] || fail_usage "$1 needs a value"; parameter_files+=("$2"); shift 2 ;;
    --what-if) what_if_only=1; shift ;;
    -y|--yes) assume_yes=1; shift ;;
    --skip-image) build_image=0; shift ;;
    --image-tag) [ $# -ge 2 ] || fail_usage "$1 needs a value"; image_tag="$2"; shift 2 ;;
    --source) [ $# -ge 2 ] || fail_usage "$1 needs a value"; source_dir="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) fail_usage "unknown argument" ;;
  esac
done

[[ "$resource_group" =~ ^[-A-Za-z0-9_.\(\)]{0,89}[-A-Za-z0-9_\(\)]$ ]] \
  || fail_usage "--resource-group: 1..90 letters, digits, _ - . ( ), not ending with a period"
[[ "$location" =~ ^[a-z][a-z0-9]{1,39}$ ]] || fail_usage "--location: an Azure region name such as westeurope"
[[ "$name" =~ ^[-A-Za-z0-9_.\(\)]{1,64}$ ]] || fail_usage "--name: 1..64 letters, digits, _ - . ( )"

here="${BASH_SOURCE[0]%/*}"
[ "$here" = "${BASH_SOURCE[0]}" ] && here="."
here="$(cd "$here" && pwd)"
template="$here/main.bicep"
[ -f "$template" ] || fail_usage "template not found: $template"

# The router image (cli/commands/deploy-image.ts): checked before anything is created.
dockerfile_rel="sandbox-node/router/Dockerfile"
placeholder_digest="sha256:0000000000000000000000000000000000000000000000000000000000000000"
if [ -z "$image_tag" ]; then
  image_tag="$(TZ=UTC; export TZ; printf '%(%Y%m%d-%H%M%S)T' -1)"
fi
[[ "$image_tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || fail_usage "--image-tag: 1..128 letters, digits, _ . -, not starting with . or -"
if [ -z "$source_dir" ]; then
  source_dir="${here%/*}"
  [ "$source_dir" = "$here" ] && source_dir="/"
fi
[ -d "$source_dir" ] || fail_usage "--source: $source_dir is not a directory"
source_dir="$(cd "$source_dir" && pwd)"
if [ "$build_image" = 1 ] && [ "$what_if_only" != 1 ]; then
  if [ ! -f "$source_dir/$dockerfile_rel" ] || [ ! -f "$source_dir/package.json" ]; then
    echo "deploy.sh: $source_dir has no $dockerfile_rel and package.json" >&2
    exit 2
  fi
  dockerfile_text="$(<"$source_dir/$dockerfile_rel")"
  if [[ "$dockerfile_text" == *"$placeholder_digest"* ]]; then
    echo "deploy.sh: $dockerfile_rel still carries the placeholder base image digest; pin the base images (docs/router.md, \"Image\") or pass --skip-image" >&2
    exit 2
  fi
fi

deployment_args=(--resource-group "$resource_group" --name "$name" --template-file "$template" --parameters "location=$location")
for file in ${parameter_files[@]+"${parameter_files[@]}"}; do
  [ -f "$file" ] || fail_usage "--parameters: $file not found"
  case "$file" in
    /*) absolute="$file" ;;
    */*) absolute="$(cd "${file%/*}" && pwd)/${file##*/}" ;;
    *) absolute="$(pwd)/$file" ;;
  esac
  deployment_args+=(--parameters "@$absolute")
done

if ! command -v az >/dev/null 2>&1; then
  echo "deploy.sh: the Azure CLI (az) is not on PATH; install it: https://aka.ms/installazurecli" >&2
  exit 2
fi

if ! subscription="$(az account show --query '[name, id]' --output tsv 2>/dev/null)"; then
  echo "deploy.sh: az is not signed in (run az login, then az account set --subscription <id>)" >&2
  exit 2
fi
echo "subscription: ${subscription//[$'\t\r\n']/ }"

if ! az group show --name "$resource_group" --output none >/dev/null 2>&1; then
  if [ "$what_if_only" = 1 ]; then
    echo "deploy.sh: resource group $resource_group does not exist (what-if needs it; deploy without --what-if creates it)" >&2
    exit 2
  fi
  echo "creating resource group $resource_group in $location"
  az group create --name "$resource_group" --location "$location" --output none || exit 1
fi

echo "what-if: changes this deployment would make"
if ! az deployment group what-if "${deployment_args[@]}"; then
  echo "deploy.sh: what-if failed; nothing was deployed" >&2
  exit 1
fi
[ "$what_if_only" = 1 ] && exit 0

# The what-if is what the operator reviews: nothing is created before they (or --yes in CI) agree to it.
if [ "$assume_yes" != 1 ]; then
  answer=""
  if [ -t 0 ]; then
    read -r -p "deploy these changes to $resource_group? [y/N] " answer || answer=""
  fi
  case "$answer" in
    y|Y|yes|YES|Yes) ;;
    *)
      echo "deploy.sh: not confirmed; nothing was deployed (answer y on a terminal, or pass --yes after reviewing the what-if)" >&2
      exit 3 ;;
  esac
fi

echo "deploying $name to $resource_group"
if ! az deployment group create "${deployment_args[@]}" --query properties.outputs --output json; then
  echo "deploy.sh: deployment failed (az deployment group show / operation list name the failing resource)" >&2
  exit 1
fi
[ "$build_image" = 1 ] || exit 0

# The registry has no public network access: ACR Tasks builds on the agent pool inside the VNet and pushes over the
# private endpoint; nothing is pushed from this machine. The digest comes from the runs API (Resource Manager).
if ! registry_outputs="$(az deployment group show --resource-group "$resource_group" --name "$name" \
    --query '[properties.outputs.registryName.value, properties.outputs.registryLoginServer.value, properties.outputs.registryBuildAgentPool.value]' \
    --output tsv)"; then
  echo "deploy.sh: could not read the registry from the deployment outputs" >&2
  exit 1
fi
registry_outputs="${registry_outputs%%[$'\r\n']*}"
IFS=$'\t' read -r registry login_server agent_pool <<<"$registry_outputs" || true
if [ -z "${registry:-}" ]; then
  echo "router image: no registry in this deployment (deployAks=false); not built"
  exit 0
fi
if ! [[ "$registry" =~ ^[A-Za-z0-9]{5,50}$ ]] || ! [[ "${agent_pool:-}" =~ ^[A-Za-z0-9-]{3,20}$ ]]; then
  echo "deploy.sh: the deployment outputs name no valid registry and agent pool" >&2
  exit 1
fi
echo "building $registry/kars/router:$image_tag with ACR Tasks (agent pool $agent_pool)"
if ! az acr build --registry "$registry" --resource-group "$resource_group" --agent-pool "$agent_pool" \
    --image "kars/router:$image_tag" --file "$dockerfile_rel" --platform linux/amd64 "$source_dir"; then
  echo "deploy.sh: router image build failed (az acr task list-runs --registry $registry shows the run)" >&2
  exit 1
fi
digest=""
if digest="$(az acr task list-runs --registry "$registry" --resource-group "$resource_group" --run-status Succeeded \
    --top 20 --query "[?outputImages[?repository=='kars/router' && tag=='$image_tag']] | [0].outputImages[0].digest" --output tsv)"; then
  digest="${digest%%[$'\r\n']*}"
fi
if ! [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || ! [[ "${login_server:-}" =~ ^[a-z0-9]{5,50}\.azurecr\.[a-z.]+$ ]]; then
  echo "deploy.sh: the build finished but its digest could not be read (az acr task list-runs)" >&2
  exit 1
fi
image_ref="$login_server/kars/router@$digest"
echo "router image: $image_ref"
echo "sandbox manifests: node dist/infra/k8s/render-sandbox-main.js kars-<name> --router-image $image_ref --router-client-id <routerClientId> --tenant-id <tenant>"
