module mlgate.test/argomeasure

go 1.22

// The expression language Argo Rollouts v1.10.1 evaluates metric conditions with (its go.mod).
require github.com/expr-lang/expr v1.17.7
