# Installs duo-relay as a Windows service. Run from the unzipped folder in an elevated PowerShell:
#   powershell -ExecutionPolicy Bypass -File .\install-service.ps1
# Program files go to C:\Program Files\duo-relay; configuration, key, journal and logs live in
# C:\ProgramData\duo-relay, readable by SYSTEM and Administrators only. The service is registered
# but not started: write relay.toml first, check it, then Start-Service duo-relay.
#Requires -RunAsAdministrator
$ErrorActionPreference = 'Stop'

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$programDir = Join-Path $env:ProgramFiles 'duo-relay'
$dataDir = 'C:\ProgramData\duo-relay'
$wrapper = Join-Path $programDir 'duo-relay-service.exe'

if (Get-Service -Name 'duo-relay' -ErrorAction SilentlyContinue) {
  # An upgrade: stop the old relay before its files are replaced; it restarts at the end.
  Stop-Service -Name 'duo-relay'
  $upgrade = $true
} else {
  $upgrade = $false
}

New-Item -ItemType Directory -Force -Path $programDir | Out-Null
foreach ($file in 'duo-relay.exe', 'duo-relay-service.exe', 'duo-relay-service.exe.config', 'duo-relay-service.xml') {
  Copy-Item -Force -Path (Join-Path $here $file) -Destination $programDir
}

New-Item -ItemType Directory -Force -Path $dataDir | Out-Null
New-Item -ItemType Directory -Force -Path (Join-Path $dataDir 'logs') | Out-Null
# Secrets live here: no inheritance, full control for SYSTEM and Administrators only.
icacls $dataDir /inheritance:r /grant:r 'SYSTEM:(OI)(CI)F' 'Administrators:(OI)(CI)F' | Out-Null
$config = Join-Path $dataDir 'relay.toml'
if (-not (Test-Path $config)) {
  # Never overwrite an existing configuration.
  Copy-Item -Path (Join-Path $here 'relay.toml.example') -Destination $config
}

if ($upgrade) {
  Start-Service -Name 'duo-relay'
  Write-Host 'duo-relay upgraded and restarted.'
} else {
  & $wrapper install
  if ($LASTEXITCODE -ne 0) { throw "duo-relay-service.exe install failed ($LASTEXITCODE)" }
  Write-Host "duo-relay service installed. Edit $config, then:"
  Write-Host "  & '$programDir\duo-relay.exe' check --config '$config'"
  Write-Host '  Start-Service duo-relay'
}
