// Package grafana holds the Grafana dashboards of the tracker and the
// seeder (*.json, for file provisioning or import) and the test that keeps
// them true: every query parses as PromQL and names only metrics the
// binaries register, and every panel follows the conventions (a data source
// variable, $__rate_interval in rate functions, a unit, a stable uid).
package grafana
