package detect

// weights are the logistic regression weights over the features, fitted by
// TestTrain (EINSATZ_TRAIN_FR=1) on testdata/train.jsonl, a training set
// written by hand by the Einsatz project (same licence as the project; see
// testdata/README.md at the repository root). The frozen evaluation set,
// testdata/feature_requests.jsonl at the repository root, is never used to
// fit them.
var weights = [numFeatures]float64{
	-0.88, // bias
	2.17,  // ask
	2.93,  // imperative
	3.11,  // wish
	2.24,  // desire
	2.35,  // plan
	1.82,  // when
	2.17,  // label
	2.64,  // missing
	-1.67, // lost
	1.33,  // need
	2.29,  // possible
	1.32,  // +1
	-1.57, // bug
	-1.26, // regression
	-1.32, // question
	-0.73, // help
	-0.52, // praise
	-1.11, // thanks
	-0.88, // done
	-2.24, // social
	0.55,  // end?
	-0.60, // short
	0.19,  // german
}
