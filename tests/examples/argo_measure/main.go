// Command argomeasure gives the phase Argo Rollouts' Web metric provider records for one HTTP
// answer, so tests can judge mlgate's real answers by an AnalysisTemplate's real conditions
// with the real expression language (github.com/expr-lang/expr, the version Argo Rollouts
// v1.10.1 requires).
//
// It reads one JSON query per line on stdin, {"status": 200, "body": "...", "jsonPath": "",
// "successCondition": "...", "failureCondition": "..."}, and writes one line per query,
// {"phase": "Successful|Failed|Inconclusive|Error", "message": "..."}. The steps follow
// Argo Rollouts v1.10.1:
//   - metricproviders/webmetric/webmetric.go, Run: a status outside 200-299 is an Error;
//     parseResponse: a body that is not JSON is Successful as it stands, conditions unread;
//     the default jsonPath "{$}" makes the whole document the result (only it is modelled);
//   - utils/evaluate/evaluate.go, EvaluateResult and EvalCondition: each condition compiled
//     and run with `result` in its environment; a condition that fails to evaluate or is not
//     a boolean is an Error; without a failureCondition, a false successCondition is a
//     failure (and the reverse); both false is Inconclusive.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/expr-lang/expr"
)

type query struct {
	Status           int    `json:"status"`
	Body             string `json:"body"`
	JSONPath         string `json:"jsonPath"`
	SuccessCondition string `json:"successCondition"`
	FailureCondition string `json:"failureCondition"`
}

type answer struct {
	Phase   string `json:"phase"`
	Message string `json:"message,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var q query
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			fmt.Fprintln(os.Stderr, "argomeasure: not a query:", err)
			os.Exit(2)
		}
		if err := out.Encode(measure(q)); err != nil {
			os.Exit(2)
		}
	}
}

func measure(q query) answer {
	if q.Status < 200 || q.Status >= 300 {
		return answer{"Error", fmt.Sprintf("received non 2xx response code: %d", q.Status)}
	}
	if q.JSONPath != "" && q.JSONPath != "{$}" {
		return answer{"Error", "argomeasure models only the default jsonPath {$}"}
	}
	var result any
	if err := json.Unmarshal([]byte(q.Body), &result); err != nil {
		return answer{Phase: "Successful", Message: "body is not JSON: taken as it stands"}
	}
	success, failure := false, false
	var err error
	if q.SuccessCondition != "" {
		if success, err = condition(result, q.SuccessCondition); err != nil {
			return answer{"Error", "successCondition: " + err.Error()}
		}
	}
	if q.FailureCondition != "" {
		if failure, err = condition(result, q.FailureCondition); err != nil {
			return answer{"Error", "failureCondition: " + err.Error()}
		}
	}
	switch {
	case q.SuccessCondition == "" && q.FailureCondition == "":
		return answer{Phase: "Successful"}
	case q.SuccessCondition != "" && q.FailureCondition == "":
		failure = !success
	case q.SuccessCondition == "" && q.FailureCondition != "":
		success = !failure
	}
	if failure {
		return answer{Phase: "Failed"}
	}
	if !success {
		return answer{Phase: "Inconclusive"}
	}
	return answer{Phase: "Successful"}
}

func condition(result any, text string) (bool, error) {
	env := map[string]any{"result": result}
	program, err := expr.Compile(text, expr.Env(env))
	if err != nil {
		return false, err
	}
	value, err := expr.Run(program, env)
	if err != nil {
		return false, err
	}
	b, ok := value.(bool)
	if !ok {
		return false, fmt.Errorf("expected bool, but got %T", value)
	}
	return b, nil
}
