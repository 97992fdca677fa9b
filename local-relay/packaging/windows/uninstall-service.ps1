# Removes the duo-relay Windows service and its program files. Configuration, key, journal and logs
# in C:\ProgramData\duo-relay stay unless -Purge is given.
#   powershell -ExecutionPolicy Bypass -File .\uninstall-service.ps1 [-Purge]
#Requires -RunAsAdministrator
param([switch]$Purge)
$ErrorActionPreference = 'Stop'

$programDir = Join-Path $env:ProgramFiles 'duo-relay'
$dataDir = 'C:\ProgramData\duo-relay'
$wrapper = Join-Path $programDir 'duo-relay-service.exe'

if (Get-Service -Name 'duo-relay' -ErrorAction SilentlyContinue) {
  Stop-Service -Name 'duo-relay' -ErrorAction SilentlyContinue
  & $wrapper uninstall
  if ($LASTEXITCODE -ne 0) { throw "duo-relay-service.exe uninstall failed ($LASTEXITCODE)" }
}
if (Test-Path $programDir) { Remove-Item -Recurse -Force -Path $programDir }
if ($Purge -and (Test-Path $dataDir)) { Remove-Item -Recurse -Force -Path $dataDir }
Write-Host 'duo-relay removed.'
