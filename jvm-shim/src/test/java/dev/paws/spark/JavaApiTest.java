package dev.paws.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.classification.LogisticRegressionModel;
import org.apache.spark.mllib.classification.SVMModel;
import org.apache.spark.mllib.regression.LabeledPoint;
import org.junit.jupiter.api.Test;

/** The API as a Java caller sees it: static train methods taking a JavaRDD. */
public class JavaApiTest {
    @Test
    public void trainsFromJava() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(TestSpark.sc());
        List<LabeledPoint> points = Arrays.asList(TestSpark.points(300, 6, 4));
        JavaRDD<LabeledPoint> rdd = jsc.parallelize(points, 2).cache();
        SVMModel svm = NativeSVMWithSGD.train(rdd, 20, 1.0, 0.01, 1.0);
        SVMModel svm2 = NativeSVMWithSGD.train(rdd.rdd(), 20, 1.0, 0.01, 1.0);
        assertEquals(svm.weights(), svm2.weights());
        LogisticRegressionModel lr =
                new NativeLogisticRegressionWithSGD().setNumIterations(20).setIntercept(true).run(rdd.rdd());
        assertEquals(6, lr.weights().size());
        assertEquals(6, NativeLogisticRegressionWithSGD.train(rdd, 10).weights().size());
        rdd.unpersist();
    }
}
