"""The master workbook's VBA project, built from text at build time (no Excel on Linux)."""

# Where a macro workbook keeps its VBA project (ECMA-376 names it by relationship; Excel
# always writes it here, and the tool adds and replaces it here).
VBA_PART = "xl/vbaProject.bin"
