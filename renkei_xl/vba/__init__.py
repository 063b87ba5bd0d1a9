"""The master workbook's VBA project, built from text at build time (no Excel on Linux)."""
